import Foundation

/// A linear scale from values to pixels with "nice" ticks (1, 2 or 5 × 10ⁿ).
struct LinearScale {
    var domain: ClosedRange<Double>
    /// The pixel positions of the domain's lower and upper ends (the lower end may lie below, as on a y axis).
    var range: (start: Double, end: Double)
    var ticks: [Double]

    /// A scale covering `values` (and 0 when `includeZero`), extended to round tick values.
    init(covering values: [Double], from start: Double, to end: Double, includeZero: Bool = true, tickCount: Int = 5) {
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if includeZero { low = min(low, 0); high = max(high, 0) }
        if high == low { high = low + (low == 0 ? 1 : abs(low) * 0.1) }
        let rough = (high - low) / Double(max(tickCount, 1))
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        low = floor(low / step) * step
        high = ceil(high / step) * step
        var ticks: [Double] = []
        var tick = low
        while tick <= high + step / 2 {
            ticks.append(abs(tick) < step / 1e6 ? 0 : tick)
            tick += step
        }
        self.domain = low...high
        self.range = (start, end)
        self.ticks = ticks
    }

    func callAsFunction(_ value: Double) -> Double {
        let fraction = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        return range.start + fraction * (range.end - range.start)
    }
}
