/// How webhooks are sent: the settings `backbone serve` reads (README "Settings") and the
/// API checks endpoint addresses with.
public struct WebhookSettings: Sendable {
    /// Whether endpoints may resolve to loopback, private, link-local and other
    /// non-public addresses (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`); off by default.
    public var allowPrivateNetworks: Bool
    /// Multiplies every delay of the retry schedule (`WEBHOOK_RETRY_SCALE`, default 1;
    /// tests compress the schedule with e.g. 0.001).
    public var retryScale: Double
    /// The most one attempt may take, connecting and the whole exchange (`WEBHOOK_TIMEOUT_SECONDS`, default 15).
    public var timeoutSeconds: Int
    /// How long finished deliveries (with their attempts) and events delivered to every
    /// endpoint are kept (`WEBHOOK_RETENTION_DAYS`, default 30).
    public var retentionDays: Int

    /// At most this many sends to one endpoint at once, per server process: a slow receiver
    /// holds these slots, never all of the process's.
    public static let sendsPerEndpoint = 4

    public init(
        allowPrivateNetworks: Bool = false, retryScale: Double = 1, timeoutSeconds: Int = 15, retentionDays: Int = 30
    ) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.retryScale = retryScale
        self.timeoutSeconds = timeoutSeconds
        self.retentionDays = retentionDays
    }

    /// How long a claimed delivery is left to its sender before another process may try it
    /// (the sender crashed): the attempt's timeout and a margin.
    public var leaseSeconds: Int { timeoutSeconds + 15 }
}
