import Synchronization

/// New request ids: 32 hex digits, unique within the process and unguessable across
/// processes, without a system call per request.
///
/// The first half is drawn at random once per process; the second is a counter passed
/// through a keyed bijection of 64-bit numbers, so no two requests of a process share an
/// id and consecutive ids look unrelated. (Drawing 128 random bits per request cost two
/// `getrandom` calls and four string allocations.)
enum RequestID {
    private static let prefix = SystemRandomNumberGenerator().nextValue()
    private static let key = SystemRandomNumberGenerator().nextValue()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return hex(prefix, mix(mix(count) ^ key))
    }

    /// SplitMix64's finalizer: a bijection, so distinct counts give distinct results.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    private static func hex(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for index in 0..<32 {
                let word = index < 16 ? high : low
                let nibble = Int((word >> UInt64(60 - 4 * (index % 16))) & 0xF)
                buffer[index] = digits.utf8Start[nibble]
            }
            return 32
        }
    }
}

extension SystemRandomNumberGenerator {
    fileprivate func nextValue() -> UInt64 {
        var generator = self
        return generator.next()
    }
}
