/// Keeps what reports read of the registry (the indicator, the neighborhood tree, the
/// partner numbers) between reports while nothing in the registry changes: three queries
/// a report spares. The API's change-aware cache is one; `RegistryMemo.none` reads each time.
public protocol RegistryMemo: Sendable {
    /// The value remembered under `key`, or the one `load` reads (remembered when it can be trusted).
    func remember<Value: Sendable>(_ key: String, _ load: () throws -> Value) throws -> Value
}

/// Remembers nothing.
public struct NoRegistryMemo: RegistryMemo {
    public init() {}

    public func remember<Value: Sendable>(_ key: String, _ load: () throws -> Value) throws -> Value { try load() }
}

extension RegistryMemo where Self == NoRegistryMemo {
    /// Reads the registry for every report.
    public static var none: NoRegistryMemo { NoRegistryMemo() }
}
