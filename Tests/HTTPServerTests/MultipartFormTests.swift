import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import HTTPServer

/// The upload form's body as browsers send it, and every way it can be malformed.
@Suite("Multipart form")
struct MultipartFormTests {
    static let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"

    static func body(_ parts: [String], boundary: String = boundary, closing: Bool = true) -> Data {
        var text = "preamble to ignore\r\n"
        for part in parts { text += "--\(boundary)\r\n\(part)\r\n" }
        if closing { text += "--\(boundary)--\r\n" }
        return Data(text.utf8)
    }

    static let file =
        "Content-Disposition: form-data; name=\"file\"; filename=\"march \\\"final\\\"; v2.csv\"\r\nContent-Type: text/csv\r\n\r\npartner,value\r\na,1\r\n"

    @Test func readsAFilePartAndTextFields() throws {
        let body = Self.body([Self.file, "Content-Disposition: form-data; name=\"mode\"\r\n\r\npartial"])
        let form = try MultipartForm(body, boundary: Self.boundary)
        #expect(form.names == ["file", "mode"])
        let file = try #require(form["file"])
        #expect(file.filename == "march \"final\"; v2.csv")
        #expect(file.contentType == "text/csv")
        // The line break before the next boundary belongs to the boundary, not the file.
        #expect(try file.text() == "partner,value\r\na,1\r\n")
        #expect(try form["mode"]?.text() == "partial")
        #expect(form["other"] == nil)
    }

    @Test func anEmptyFieldAndAnEmptyFile() throws {
        let body = Self.body([
            "Content-Disposition: form-data; name=\"note\"\r\n\r\n",
            "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        ])
        let form = try MultipartForm(body, boundary: Self.boundary)
        #expect(form["note"]?.body.isEmpty == true)
        #expect(form["file"]?.filename == "")
        #expect(form["file"]?.body.isEmpty == true)
    }

    @Test func theBoundaryComesFromTheContentType() throws {
        #expect(try MultipartForm.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(
            try MultipartForm.boundary(contentType: "multipart/form-data; charset=utf-8; Boundary=\"a b\"") == "a b")
        for bad in [
            "multipart/form-data", "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\(String(repeating: "x", count: 71))",
        ] {
            #expect(throws: Problem.self) { try MultipartForm.boundary(contentType: bad) }
        }
    }

    @Test func readsARequestAndRefusesOtherTypes() throws {
        var headers = HTTPHeaders([("content-type", "multipart/form-data; boundary=\(Self.boundary)")])
        let body = Self.body(["Content-Disposition: form-data; name=\"mode\"\r\n\r\nall"])
        let request = HTTPRequest(method: .POST, uri: "/x", headers: headers, body: ByteBuffer(bytes: body))
        #expect(try MultipartForm(request)["mode"]?.text() == "all")
        headers.replaceOrAdd(name: "content-type", value: "application/x-www-form-urlencoded")
        let other = HTTPRequest(method: .POST, uri: "/x", headers: headers, body: ByteBuffer(bytes: body))
        let problem = #expect(throws: Problem.self) { try MultipartForm(other) }
        #expect(problem?.status == .unsupportedMediaType)
    }

    /// Each malformed body is a 400 `malformed-multipart` saying what is wrong.
    @Test(arguments: [
        ("no boundary at all", Data("just text".utf8), "never appears"),
        ("unterminated", body([file], closing: false), "closing boundary is missing"),
        (
            "no blank line", Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"--\(boundary)--".utf8),
            "closing boundary"
        ),
        ("headers without end", body(["Content-Disposition: form-data; name=\"a\""]), "blank line"),
        ("no disposition", body(["Content-Type: text/plain\r\n\r\nx"]), "no Content-Disposition"),
        ("no name", body(["Content-Disposition: form-data; filename=\"a.csv\"\r\n\r\nx"]), "with a name"),
        ("not form-data", body(["Content-Disposition: attachment; name=\"a\"\r\n\r\nx"]), "with a name"),
        ("header without colon", body(["Content-Disposition: form-data; name=\"a\"\r\nnonsense\r\n\r\nx"]), "no colon"),
        (
            "twice",
            body([
                "Content-Disposition: form-data; name=\"a\"\r\n\r\n1",
                "Content-Disposition: form-data; name=\"a\"\r\n\r\n2",
            ]), "appears twice"
        ),
        ("junk after boundary", Data("--\(boundary)junk\r\n".utf8), "text after the boundary"),
        (
            "too many parts",
            body((0...MultipartForm.maxParts).map { "Content-Disposition: form-data; name=\"f\($0)\"\r\n\r\nx" }),
            "more than"
        ),
        (
            "huge headers",
            body([
                "Content-Disposition: form-data; name=\"a\"\r\nX-Pad: \(String(repeating: "p", count: MultipartForm.maxHeaderBytes))\r\n\r\nx"
            ]), "longer than"
        ),
    ])
    func malformedBodiesAreRefusedSayingWhy(_ name: String, _ body: Data, _ says: String) throws {
        let problem = #expect(throws: Problem.self) { try MultipartForm(body, boundary: Self.boundary) }
        #expect(problem?.status == .badRequest, "\(name)")
        #expect(problem?.code == "malformed-multipart", "\(name)")
        #expect(problem?.detail?.contains(says) == true, "\(name): \(problem?.detail ?? "")")
    }

    @Test func aFieldThatIsNotUTF8IsRefusedByName() throws {
        var body = Data("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n".utf8)
        body.append(contentsOf: [0xFF, 0xFE])
        body.append(Data("\r\n--\(Self.boundary)--\r\n".utf8))
        let form = try MultipartForm(body, boundary: Self.boundary)
        let problem = #expect(throws: Problem.self) { try form["mode"]?.text() }
        #expect(problem?.errors.first?.field == "mode")
    }
}
