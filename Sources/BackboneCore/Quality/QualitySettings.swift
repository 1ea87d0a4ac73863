import DataQuality

/// How submissions are checked for plausibility (docs/quality.md): the outlier scorer's
/// threshold and minimum history, and whether the checks run at all (a deployment
/// measuring their cost turns them off; `QUALITY_CHECKS`).
public struct QualitySettings: Sendable {
    public var enabled: Bool
    public var outliers: OutlierScorer

    public init(enabled: Bool = true, outliers: OutlierScorer = OutlierScorer()) {
        self.enabled = enabled
        self.outliers = outliers
    }

    public static let standard = QualitySettings()
    public static let off = QualitySettings(enabled: false)
}
