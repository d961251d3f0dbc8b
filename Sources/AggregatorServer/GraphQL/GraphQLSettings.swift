import AggregatorGraphQL

/// Knobs of the GraphQL endpoint; the defaults are what production runs, tests shorten the timers. The limits on
/// documents are configuration (`AppConfig.graphQLLimits`).
public struct GraphQLSettings: Sendable {
    public var socket = GraphQLSocketSettings()
    /// Events a subscription may hold unread before its connection is closed.
    public var subscriptionBufferSize = 256
    /// Largest WebSocket frame and message accepted.
    public var maxFrameSize = 1 << 20
    /// Largest POST body accepted.
    public var maxBodyBytes = 1 << 20

    public init() {}
}
