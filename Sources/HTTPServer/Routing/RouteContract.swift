import NIOHTTP1

/// What a route takes in its query string and which representations it answers with,
/// declared where the route is registered and checked once, before its handler runs.
///
/// A typo never changes what a request does: a query parameter the route does not take
/// is a 400 `unknown-parameter` (suggesting the closest one it takes), an empty value is
/// a 400 `empty-parameter`, a parameter given twice a 400 `repeated-parameter`, and a
/// `format` the route does not offer is a 400 `unsupported-format`. A route with more than one representation takes `format`
/// (which overrides `Accept`); otherwise `Accept` decides, and when the client accepts
/// nothing the route offers the answer is a 406 `not-acceptable`.
public struct RouteContract: Sendable {
    /// The query parameters the route's handler reads, in documentation order.
    public var parameters: [String]
    /// The representations the route answers with, the default first.
    public var offers: [Representation]

    /// A contract taking `parameters` and answering with `offers` (at least one; the first is the default).
    public init(parameters: [String] = [], offers: [Representation] = [.json]) {
        precondition(!offers.isEmpty, "a route offers at least one representation")
        self.parameters = parameters
        self.offers = offers
    }

    /// Every query parameter the route takes, `format` included when it offers a choice.
    public var acceptedParameters: [String] {
        offers.count > 1 && !parameters.contains("format") ? parameters + ["format"] : parameters
    }

    /// `response` marked as negotiated (`Vary: Accept`) when the route offers a choice.
    func varied(_ response: HTTPResponse) -> HTTPResponse {
        guard offers.count > 1 else { return response }
        var response = response
        response.headers.add(name: "vary", value: "Accept")
        return response
    }

    /// Checks the query and negotiates the representation, which it stores in the request.
    public func admit(_ request: inout HTTPRequest, method: HTTPMethod, pattern: String) throws {
        let accepted = acceptedParameters
        var seen: Set<String> = []
        for (name, value) in request.query {
            guard accepted.contains(name) else {
                let suggestion = Self.suggestion(for: name, among: accepted)
                let takes =
                    accepted.isEmpty ? "It takes no query parameters." : "It takes \(accepted.joined(separator: ", "))."
                let hint = suggestion.map { " Did you mean \($0)?" } ?? ""
                var problem = Problem.badRequest(
                    "\(name) is not a query parameter of \(method.rawValue) \(pattern).\(hint) \(takes)", field: name,
                    code: "unknown-parameter")
                problem.extensions = ["parameter": .text(name), "accepted": .list(accepted)]
                if let suggestion { problem.extensions["suggestion"] = .text(suggestion) }
                throw problem
            }
            guard !value.isEmpty else {
                var problem = Problem.badRequest(
                    "\(name) is empty; give it a value or leave it out.", field: name, code: "empty-parameter")
                problem.extensions = ["parameter": .text(name), "accepted": .list(accepted)]
                throw problem
            }
            guard seen.insert(name).inserted else {
                var problem = Problem.badRequest(
                    "\(name) is given more than once; give it once.", field: name, code: "repeated-parameter")
                problem.extensions = ["parameter": .text(name), "accepted": .list(accepted)]
                throw problem
            }
        }
        if offers.count > 1, let format = request.query("format") {
            guard let chosen = offers.first(where: { $0.format == format }) else {
                let formats = offers.map(\.format)
                var problem = Problem.badRequest(
                    "format must be \(formats.joined(separator: " or ")), not \(format).", field: "format",
                    code: "unsupported-format")
                problem.extensions = ["parameter": .text("format"), "accepted": .list(formats)]
                throw problem
            }
            request.representation = chosen
            return
        }
        let accept = request.headers["accept"]
        guard
            let chosen = ContentNegotiation.choose(offers, accept: accept.isEmpty ? nil : accept.joined(separator: ","))
        else {
            let available = offers.map(\.mediaType)
            var problem = Problem(
                status: .notAcceptable, code: "not-acceptable", title: "Not acceptable",
                detail:
                    "\(method.rawValue) \(pattern) answers with \(available.joined(separator: " or ")); the Accept header allows none of them."
            )
            problem.extensions = ["available": .list(available)]
            throw problem
        }
        request.representation = chosen
    }

    /// The accepted name closest to `name` (ignoring case, `-` and `_`), if it is close enough to be a typo.
    public static func suggestion(for name: String, among accepted: [String]) -> String? {
        func folded(_ text: String) -> [Character] {
            Array(text.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " && $0 != "." })
        }
        let typed = folded(name)
        var best: (name: String, distance: Int)?
        for candidate in accepted {
            let distance = editDistance(typed, folded(candidate))
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = max(1, min(typed.count, folded(best.name).count) / 3)
        return best.distance <= allowed ? best.name : nil
    }

    /// Levenshtein distance, with a swap of two neighbours counting as one edit.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
