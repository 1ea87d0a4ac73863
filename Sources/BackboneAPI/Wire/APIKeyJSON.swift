import BackboneCore
import JSON

extension APIKey: JSONRepresentable {
    /// `partner`, `name` and `revoked_at` appear only when set; never the secret.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "role": .string(role.rawValue), "created_at": JSONValue(createdAt),
        ]
        if let partner { members["partner"] = .string(partner) }
        if let name { members["name"] = .string(name) }
        if let revokedAt { members["revoked_at"] = JSONValue(revokedAt) }
        return .object(members)
    }
}
