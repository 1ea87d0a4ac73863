import BackboneCore
import HTTPServer
import JSON

extension QualityFlag: JSONRepresentable {
    public var json: JSONValue { json(withHistory: true) }

    /// The flag; without its trail for a CSV row.
    func json(withHistory: Bool) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": JSONValue(id), "measurement": JSONValue(measurement), "partner": .string(partner),
            "indicator": .string(indicator), "neighborhood": .string(neighborhood), "period": .string(period),
            "kind": .string(kind.rawValue), "rule": JSONValue(rule), "score": JSONValue(score),
            "expected": expected.map {
                .object(["low": JSONValue($0.lowerBound), "high": JSONValue($0.upperBound)])
            } ?? .null,
            "message": .string(message), "status": .string(status.rawValue), "note": JSONValue(note),
            "opened_at": JSONValue(openedAt), "updated_at": JSONValue(updatedAt),
        ]
        if withHistory { members["history"] = .array(history.map(\.json)) }
        return .object(members)
    }
}

extension QualityFlag.Change: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "status": .string(status.rawValue), "note": JSONValue(note), "key": JSONValue(key), "at": JSONValue(at),
        ])
    }
}

extension QualityFlags.Page: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "items": .array(items.map(\.json)), "total": JSONValue(total),
            "next_cursor": JSONValue(nextCursor.map(String.init)),
        ])
    }
}

extension RuleSweep.Outcome: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "rule": .string(rule), "cells": JSONValue(cells), "violations": JSONValue(violations),
            "standing_flags": JSONValue(standing),
        ])
    }
}
