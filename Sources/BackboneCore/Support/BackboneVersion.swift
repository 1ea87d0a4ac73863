/// The service's version: `openapi.yaml`'s `info.version` and `backbone --version` both
/// say this (a test holds the contract to it). The README says when it changes.
public enum BackboneVersion {
    public static let current = "0.5.0"
}
