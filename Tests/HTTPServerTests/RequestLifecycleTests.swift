import NIOCore
import NIOHTTP1
import Testing

@testable import HTTPServer

/// The connection's request lifecycle without a channel: events in, actions out.
@Suite("Request lifecycle")
struct RequestLifecycleTests {
    static func head(_ method: HTTPMethod = .POST, length: Int? = nil, chunked: Bool = false) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let length { headers.add(name: "content-length", value: String(length)) }
        if chunked { headers.add(name: "transfer-encoding", value: "chunked") }
        return HTTPRequestHead(version: .http1_1, method: method, uri: "/upload", headers: headers)
    }

    static func bytes(_ count: Int) -> ByteBuffer { ByteBuffer(repeating: 1, count: count) }

    /// The action's name and what matters of it, for comparisons.
    static func describe(_ action: RequestLifecycle.Action) -> String {
        switch action {
        case .none: "none"
        case .admit: "admit"
        case .receiveBody: "receive"
        case .respond(_, let body): "respond \(body.readableBytes)"
        case .refuse(let refusal, _, let drain): "refuse \(refusal) drain=\(drain)"
        case .close: "close"
        }
    }

    @Test func aRequestWithoutABodyIsAnsweredAtItsEnd() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        #expect(Self.describe(lifecycle.headReceived(Self.head(.GET), routeLimit: nil)) == "none")
        #expect(Self.describe(lifecycle.endReceived(writable: true)) == "respond 0")
        lifecycle.responseFinished()
        #expect(lifecycle.state == .idle)
    }

    @Test func aBodyWaitsUnreadUntilItsHeadIsAdmittedThenReservesItsBytes() {
        let budget = BodyBudget(limit: 1000)
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: budget)
        #expect(Self.describe(lifecycle.headReceived(Self.head(length: 10), routeLimit: nil)) == "admit")
        #expect(!lifecycle.mayRead(writable: true), "reads are held while the head is checked")
        #expect(Self.describe(lifecycle.admitted(true, writable: true)) == "receive")
        #expect(budget.inUse == 10)
        var chunk = Self.bytes(10)
        #expect(Self.describe(lifecycle.bodyReceived(&chunk)) == "none")
        #expect(Self.describe(lifecycle.endReceived(writable: true)) == "respond 10")
        lifecycle.responseFinished()
        #expect(budget.inUse == 0, "the budget comes back when the answer is written")
    }

    @Test func aRequestSentWholeBeforeItsVerdictIsRefusedAsCompleteAndTheConnectionCarriesOn() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = lifecycle.headReceived(Self.head(length: 4), routeLimit: nil)
        var chunk = Self.bytes(4)
        _ = lifecycle.bodyReceived(&chunk)
        _ = lifecycle.endReceived(writable: true)
        #expect(Self.describe(lifecycle.admitted(false, writable: true)) == "refuse answered drain=false")
        #expect(lifecycle.state == .idle)
    }

    @Test func aRefusedHeadWhoseBodyIsStillComingDrainsItThenCloses() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = lifecycle.headReceived(Self.head(length: 50), routeLimit: nil)
        #expect(Self.describe(lifecycle.admitted(false, writable: true)) == "refuse answered drain=true")
        var chunk = Self.bytes(50)
        #expect(Self.describe(lifecycle.bodyReceived(&chunk)) == "none")
        #expect(Self.describe(lifecycle.endReceived(writable: true)) == "close")
    }

    @Test func aDeclaredLengthOverTheRoutesLimitIsRefusedOnTheHead() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        #expect(
            Self.describe(lifecycle.headReceived(Self.head(length: 60), routeLimit: 50))
                == "refuse bodyTooLarge(limit: 50, routeLimit: true) drain=true")
    }

    @Test func aChunkedBodyIsRefusedAsItPassesTheLimitAndReturnsWhatItReserved() {
        let budget = BodyBudget(limit: 1000)
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: budget)
        _ = lifecycle.headReceived(Self.head(chunked: true), routeLimit: nil)
        _ = lifecycle.admitted(true, writable: true)
        var first = Self.bytes(80)
        _ = lifecycle.bodyReceived(&first)
        #expect(budget.inUse == 80)
        var second = Self.bytes(30)
        #expect(
            Self.describe(lifecycle.bodyReceived(&second))
                == "refuse bodyTooLarge(limit: 100, routeLimit: false) drain=true")
        #expect(budget.inUse == 0)
    }

    @Test func aSpentBudgetIs503BeforeTheBodyIsRead() {
        let budget = BodyBudget(limit: 100)
        #expect(budget.reserve(95))
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: budget)
        _ = lifecycle.headReceived(Self.head(length: 10), routeLimit: nil)
        #expect(Self.describe(lifecycle.admitted(true, writable: true)) == "refuse busy drain=true")
    }

    @Test func aSlowBodyOrASilentClientMidBodyIs408() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = lifecycle.headReceived(Self.head(length: 50), routeLimit: nil)
        _ = lifecycle.admitted(true, writable: true)
        var chunk = Self.bytes(5)
        _ = lifecycle.bodyReceived(&chunk)
        #expect(Self.describe(lifecycle.rateWindowEnded(minimum: 4)) == "none")
        #expect(Self.describe(lifecycle.rateWindowEnded(minimum: 4)) == "refuse bodyTooSlow drain=true")

        var silent = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = silent.headReceived(Self.head(length: 50), routeLimit: nil)
        _ = silent.admitted(true, writable: true)
        #expect(Self.describe(silent.idle()) == "refuse requestIncomplete drain=true")
    }

    @Test func anIdleConnectionClosesButAServerAtWorkIsNotTheClientsFault() {
        var idle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        #expect(Self.describe(idle.idle()) == "close")
        var working = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = working.headReceived(Self.head(.GET), routeLimit: nil)
        _ = working.endReceived(writable: true)
        #expect(Self.describe(working.idle()) == "none")
    }

    @Test func aClientThatDoesNotReadHoldsItsNextRequestUntilItDoes() {
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = lifecycle.headReceived(Self.head(.GET), routeLimit: nil)
        #expect(Self.describe(lifecycle.endReceived(writable: false)) == "none")
        #expect(!lifecycle.mayRead(writable: false))
        #expect(Self.describe(lifecycle.becameWritable()) == "respond 0")
    }

    @Test func aParserErrorIs400UnlessAStreamedResponseIsUnderWay() {
        var fresh = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        #expect(Self.describe(fresh.parserFailed()).hasPrefix("refuse answered"))
        var streaming = RequestLifecycle(maxBodySize: 100, budget: BodyBudget(limit: 1000))
        _ = streaming.headReceived(Self.head(.GET), routeLimit: nil)
        _ = streaming.endReceived(writable: true)
        streaming.streamStarted()
        #expect(Self.describe(streaming.parserFailed()) == "close")
    }

    @Test func aClosedConnectionReturnsItsReservation() {
        let budget = BodyBudget(limit: 1000)
        var lifecycle = RequestLifecycle(maxBodySize: 100, budget: budget)
        _ = lifecycle.headReceived(Self.head(length: 40), routeLimit: nil)
        _ = lifecycle.admitted(true, writable: true)
        #expect(budget.inUse == 40)
        lifecycle.closed()
        #expect(budget.inUse == 0)
    }
}
