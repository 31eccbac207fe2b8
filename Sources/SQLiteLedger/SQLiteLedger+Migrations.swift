import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// Opening a file: the schema migrations, the tree capacity fixed at creation, the checks
/// a read-only open makes.
extension SQLiteLedger {
    /// Applies every pending migration step in one IMMEDIATE transaction (a second process
    /// opening the same file waits, then finds nothing left to do).
    static func migrate(_ db: SQLiteConnection) throws(LedgerError) {
        try guarded {
            var version = try db.scalar("PRAGMA user_version")
            if version > LedgerSchema.currentVersion {
                throw LedgerError.schemaTooNew(found: version, supported: LedgerSchema.currentVersion)
            }
            if version == LedgerSchema.currentVersion { return }
            try db.execute("BEGIN IMMEDIATE")
            do {
                version = try db.scalar("PRAGMA user_version")
                if version == 0 {
                    let app = try db.scalar("PRAGMA application_id")
                    if app != 0 && app != applicationID {
                        throw LedgerError.corrupt("\(db.path) is not a ZKSettle ledger (application_id \(app))")
                    }
                    try db.execute("PRAGMA application_id = \(applicationID)")
                }
                while version < LedgerSchema.currentVersion {
                    try db.execute(LedgerSchema.migrations[Int(version)])
                    version += 1
                    try db.execute("PRAGMA user_version = \(version)")
                }
                try db.execute("COMMIT")
            } catch {
                rollback(db)
                throw error
            }
        }
    }

    static func storedTreeCapacity(_ db: SQLiteConnection) throws(LedgerError) -> Int? {
        let value: Int64? = try guarded {
            try db.withStatement("SELECT value FROM settings WHERE name = 'tree_capacity'") { s in try s.step() ? s.int64(0) : nil }
        }
        guard let value else { return nil }
        guard TreeCapacity.problem(Int(value)) == nil else { throw .corrupt("settings.tree_capacity is \(value): \(TreeCapacity.problem(Int(value))!)") }
        return Int(value)
    }

    /// Stores the tree capacity of a new ledger, or checks the requested one against the
    /// stored one (a ledger's trees never change size: leaf indices would change trees).
    static func fixTreeCapacity(_ db: SQLiteConnection, requested: Int?) throws(LedgerError) {
        if let stored = try storedTreeCapacity(db) {
            if let requested, requested != stored { throw .treeCapacity(stored: stored, requested: requested) }
            return
        }
        try guarded {
            try db.withStatement("INSERT OR IGNORE INTO settings (name, value) VALUES ('tree_capacity', ?)") { s in
                try s.bind(1, Int64(requested ?? TreeCapacity.maximum)); try s.run()
            }
        }
        let stored = try storedTreeCapacity(db)
        if let requested, requested != stored { throw .treeCapacity(stored: stored, requested: requested) }
    }

    static func checkSchema(_ db: SQLiteConnection, path: String) throws(LedgerError) {
        let (version, app) = try guarded { (try db.scalar("PRAGMA user_version"), try db.scalar("PRAGMA application_id")) }
        if version == 0 { throw .noLedger(path: path) }
        if app != applicationID { throw .corrupt("\(path) is not a ZKSettle ledger (application_id \(app))") }
        if version > LedgerSchema.currentVersion {
            throw .schemaTooNew(found: version, supported: LedgerSchema.currentVersion)
        }
    }

    static func rollback(_ db: SQLiteConnection) {
        if !db.isAutocommit { try? db.execute("ROLLBACK") }
    }
}
