import Aggregation
import Foundation

/// Where an action of the plan stands (docs/actions.md).
public enum ActionStatus: String, Sendable, CaseIterable {
    case planned
    case inProgress = "in_progress"
    case done
    case dropped

    /// Planned and in-progress actions are still to be done; done and dropped ones are closed.
    public var isOpen: Bool { self == .planned || self == .inProgress }
}

/// One action of an indicator's action plan: what is to be done, which partner owns it and by when.
public struct PlannedAction: Sendable, Equatable {
    public var id: Int
    public var indicator: String
    public var title: String
    /// The partner that owns the action (a partner id).
    public var owner: String
    public var due: Day
    public var status: ActionStatus
    /// Empty when nobody wrote one.
    public var note: String
    public var createdAt: Date
    public var updatedAt: Date

    /// Due before `today` and still planned or in progress.
    public func isOverdue(today: Day) -> Bool { due < today && status.isOpen }
}

/// What a create or an update of an action sets: the fields it names, `nil` for those it
/// leaves as they are.
public struct ActionFields: Sendable, Equatable {
    public var indicator: String?
    public var title: String?
    public var owner: String?
    public var due: Day?
    public var status: ActionStatus?
    public var note: String?

    public init() {}

    /// The fields only the coordinator may set; an owning partner sets `status` and `note`.
    public static let coordinatorOnly = ["indicator", "title", "owner", "due"]

    /// The names of the coordinator-only fields this change sets.
    public var coordinatorOnlyFields: [String] {
        zip(Self.coordinatorOnly, [indicator != nil, title != nil, owner != nil, due != nil]).filter(\.1).map(\.0)
    }
}

/// One change of an action: created or updated, by which key, when, and the action after it.
public struct ActionChange: Sendable, Equatable {
    public enum Change: String, Sendable, CaseIterable {
        case created, updated
    }

    /// The entry's place in the history (its cursor).
    public var id: Int
    public var change: Change
    public var keyID: String
    public var at: Date
    public var action: PlannedAction
}
