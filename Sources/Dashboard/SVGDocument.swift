/// Builds an SVG document as text; every piece of text that goes in is escaped here.
struct SVGDocument {
    let width: Double
    let height: Double
    private(set) var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func raw(_ markup: String) { body.append(markup) }

    /// `<name a="v" …/>`, attribute values escaped.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text: String? = nil) {
        let attributeText = attributes.map { " \($0.key)=\"\(Escape.html($0.value))\"" }.joined()
        if let text {
            body.append("<\(name)\(attributeText)>\(Escape.html(text))</\(name)>")
        } else {
            body.append("<\(name)\(attributeText)/>")
        }
    }

    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String>) {
        body.append("<\(name)" + attributes.map { " \($0.key)=\"\(Escape.html($0.value))\"" }.joined() + ">")
    }

    mutating func close(_ name: String) { body.append("</\(name)>") }

    /// The finished document: an accessible image with a title and a description.
    func render(id: String, title: String, description: String) -> String {
        let w = Format.coordinate(width), h = Format.coordinate(height)
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"\(Escape.html(id))\" viewBox=\"0 0 \(w) \(h)\" width=\"\(w)\" height=\"\(h)\" role=\"img\" aria-labelledby=\"\(Escape.html(id))-title \(Escape.html(id))-desc\" font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"16\">",
            "<title id=\"\(Escape.html(id))-title\">\(Escape.html(title))</title>",
            "<desc id=\"\(Escape.html(id))-desc\">\(Escape.html(description))</desc>",
            "<rect width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>",
        ]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A diagonal hatch pattern for withheld cells.
    static func hatch(id: String) -> String {
        "<defs><pattern id=\"\(Escape.html(id))\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f2f2f2\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#595959\" stroke-width=\"3\"/></pattern></defs>"
    }
}

/// The colours: dark enough on white for a projector (WCAG AA for text), told apart by shape too.
enum Palette {
    static let ink = "#1a1a1a"
    static let muted = "#4d4d4d"
    static let grid = "#d9d9d9"
    static let series = "#0b5394"
    static let target = "#b34700"
    static let baseline = "#4d4d4d"
    static let projection = "#0b5394"
    static let bar = "#0b5394"
}
