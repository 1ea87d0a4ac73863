import BackboneCore
import JSON

// Releases as the wire spells them.

extension Release: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "agenda": .string(agenda), "period": .string(period), "revision": JSONValue(revision),
            "automatic": .bool(automatic), "released_at": JSONValue(releasedAt),
            "indicators": .array(
                indicators.map { coverage in
                    .object([
                        "indicator": .string(coverage.indicator), "periods": JSONValue(coverage.periods),
                        "cells": JSONValue(coverage.cells), "withheld": JSONValue(coverage.withheld),
                    ])
                }),
        ])
    }
}

extension Release.Stamp: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "period": .string(period), "revision": JSONValue(revision),
            "released_at": JSONValue(releasedAt),
        ])
    }
}
