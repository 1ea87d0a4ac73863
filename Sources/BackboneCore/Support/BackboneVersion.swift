public enum BackboneVersion { public static let current = "0.2.0" }
