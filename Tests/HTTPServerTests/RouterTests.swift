import HTTPServer
import NIOHTTP1
import Testing

@Suite("Router matching")
struct RouterTests {
    static let router: Router<Void> = {
        var router = Router<Void>()
        for pattern in [
            "/", "/healthz", "/v1/indicators", "/v1/indicators/{code}", "/v1/indicators/latest",
            "/v1/{kind}/{key}/history",
        ] {
            router.get(pattern) { _ in HTTPResponse() }
        }
        router.add(.PATCH, "/v1/indicators/{code}") { _ in HTTPResponse() }
        return router
    }()

    /// The matched pattern and parameters, or what else the match was.
    static func match(_ path: String, _ method: HTTPMethod = .GET) -> String {
        switch router.match(method, path: path) {
        case .found(let route, let parameters):
            return ([route.pattern] + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(
                separator: " ")
        case .methodNotAllowed(let allowed): return "405 " + allowed.map(\.rawValue).joined(separator: ",")
        case .notFound: return "404"
        }
    }

    @Test func segmentsParametersAndTrailingSlashes() {
        #expect(Self.match("/") == "/")
        #expect(Self.match("/healthz") == "/healthz")
        #expect(Self.match("/healthz/") == "/healthz")
        #expect(Self.match("/v1/indicators") == "/v1/indicators")
        #expect(Self.match("/v1/indicators/esl") == "/v1/indicators/{code} code=esl")
        #expect(Self.match("/v1/indicators/esl/") == "/v1/indicators/{code} code=esl")
        #expect(Self.match("/v1/partners/p1/history") == "/v1/{kind}/{key}/history key=p1 kind=partners")
    }

    @Test func literalsWinOverParameters() {
        #expect(Self.match("/v1/indicators/latest") == "/v1/indicators/latest")
    }

    @Test func parametersArePercentDecodedAndNeverEmpty() {
        #expect(Self.match("/v1/indicators/a%20b") == "/v1/indicators/{code} code=a b")
        #expect(Self.match("/v1/indicators/caf%C3%A9") == "/v1/indicators/{code} code=café")
        #expect(Self.match("/v1/indicators//history") == "404")
        #expect(Self.match("/v1//esl") == "404")
    }

    @Test func otherMethodsOfAPathAre405WithTheirList() {
        #expect(Self.match("/v1/indicators/esl", .PATCH) == "/v1/indicators/{code} code=esl")
        #expect(Self.match("/v1/indicators/esl", .DELETE) == "405 GET,PATCH")
        #expect(Self.match("/healthz", .POST) == "405 GET")
    }

    @Test func unknownPathsAndOddTargetsAre404() {
        #expect(Self.match("/nothing") == "404")
        #expect(Self.match("/v1/indicators/esl/extra/more") == "404")
        #expect(Self.match("*") == "404")
        #expect(Self.match("") == "404")
        #expect(Self.match("//") == "/")  // the trailing slash dropped, as from "/healthz/"
    }
}
