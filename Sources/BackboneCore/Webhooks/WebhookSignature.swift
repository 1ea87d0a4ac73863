import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com/): secrets, message ids and
/// the `webhook-signature` header (docs/events.md, "Webhooks").
public enum WebhookSignature {
    /// The prefix of every secret; the rest is the base64 of the key's bytes.
    public static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` and the base64 of 32 random bytes.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The `webhook-id` of an event: the same for every attempt and endpoint, so a receiver drops repeats.
    public static func messageID(event: Int) -> String { "msg_\(event)" }

    /// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed by the secret's bytes
    /// (the base64 after `whsec_`); `nil` for a secret that is not such.
    public static func sign(id: String, timestamp: Int, body: [UInt8], secret: String) -> String? {
        guard secret.hasPrefix(secretPrefix),
            let key = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count)))
        else { return nil }
        var message = Array("\(id).\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
