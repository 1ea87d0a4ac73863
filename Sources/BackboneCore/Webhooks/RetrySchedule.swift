import Foundation

/// When a failed delivery is tried again: about 5 s after the first failure, then 5 min,
/// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h, each with ±10 % jitter; then it is given up.
public enum RetrySchedule {
    /// Seconds before the next attempt after the 1st, 2nd, … failed one.
    public static let delays: [Double] = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]

    /// The longest `Retry-After` honoured: a day, the schedule's longest step.
    public static let longestRetryAfter: Double = 86_400

    /// Seconds until the next attempt after `failedAttempts` attempts failed, or `nil` to
    /// give up. The schedule's step is multiplied by `scale` and by `jitter` (0.9 to 1.1);
    /// a later `retryAfter` (seconds, from the endpoint's answer) wins.
    public static func delay(
        afterFailedAttempts failedAttempts: Int, scale: Double, retryAfter: Double? = nil,
        jitter: Double = Double.random(in: 0.9...1.1)
    ) -> Double? {
        guard failedAttempts >= 1, failedAttempts <= delays.count else { return nil }
        let scheduled = delays[failedAttempts - 1] * scale * jitter
        guard let retryAfter, retryAfter.isFinite else { return scheduled }
        return max(scheduled, min(retryAfter, longestRetryAfter))
    }

    /// A `Retry-After` header's seconds from `now`: a number of seconds or an HTTP date
    /// (RFC 9110); `nil` for anything else.
    public static func retryAfterSeconds(_ header: String, now: Date = Date()) -> Double? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text) { return seconds >= 0 ? Double(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
