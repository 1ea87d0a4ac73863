/// Who acts on the data: the API key, and the partner it is bound to (`nil` for the
/// coordinator). Submissions and answers to flags are recorded under the key and limited to
/// the partner's own rows.
public struct KeyHolder: Sendable {
    public var keyID: String
    public var partner: String?

    public init(keyID: String, partner: String?) {
        self.keyID = keyID
        self.partner = partner
    }
}
