/// The ledger's schema as an append-only list of migrations (GRDB's rule: a shipped
/// migration is never edited; a change is a new step). `PRAGMA user_version` is the number of
/// steps applied; all pending steps run in one transaction at open.
///
/// Invariants the schema enforces by itself, so that no code path (nor an operator with the
/// sqlite3 shell) can break them without dropping a constraint first:
/// - field elements, hashes and ids are 32-byte BLOBs; tables are STRICT (no type coercion);
/// - a nullifier is spent once (`nullifiers` primary key); a leaf index is filled once and
///   leaves are appended contiguously from 0 (primary key + trigger);
/// - batch numbers run 1, 2, 3, … and each header names the hash of the one before (trigger);
/// - every leaf and nullifier names a transfer of the same batch (foreign key + trigger);
/// - settled history is append-only (triggers); the only mutations are a payout going from
///   `pending` to `paid`, once, and old roots leaving the `roots` window (the recent roots;
///   every batch root, in `batches`, stays an accepted anchor);
/// - a transfer has at most one payout;
/// - a deposit voucher is used once (`vouchers` primary key), by one transfer of its batch.
enum LedgerSchema {
    /// Migration steps; index + 1 is the `user_version` after the step.
    static let migrations: [String] = [v1, v2, v3, v4, v5]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Version 1.
    ///
    /// Field elements (`root`, nullifiers, commitments, …) are canonical 32-byte big-endian
    /// values (< r). Times are Unix milliseconds. `ext_data` is `ExtData.canonicalEncoding`;
    /// `proof_json` the snarkjs proof bytes. A transfer's receipt is rebuilt from its row and
    /// its batch's root (commit checks that the receipt states exactly those); only the Ed25519
    /// signature is stored. `transfers` keeps a rowid: its rows (proof, ciphertexts) are too
    /// large for a WITHOUT ROWID b-tree; `nullifiers` has small rows and is looked up by
    /// nullifier, so it is WITHOUT ROWID (one random-key b-tree written per nullifier, not two).
    static let v1 = """
        CREATE TABLE batches (
            number            INTEGER PRIMARY KEY CHECK (number >= 1),
            previous_hash     BLOB    NOT NULL CHECK (length(previous_hash) = 32),
            hash              BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
            root              BLOB    NOT NULL CHECK (length(root) = 32),
            leaf_count        INTEGER NOT NULL CHECK (leaf_count >= 0 AND leaf_count <= 1048576),
            transfer_count    INTEGER NOT NULL CHECK (transfer_count >= 0),
            created_at        INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE transfers (
            id                BLOB    PRIMARY KEY CHECK (length(id) = 32),
            batch             INTEGER NOT NULL REFERENCES batches(number),
            position          INTEGER NOT NULL CHECK (position >= 0),
            status            TEXT    NOT NULL DEFAULT 'settled' CHECK (status IN ('settled')),
            reason            TEXT,
            root              BLOB    NOT NULL CHECK (length(root) = 32),
            public_amount     BLOB    NOT NULL CHECK (length(public_amount) = 32),
            ext_data_hash     BLOB    NOT NULL CHECK (length(ext_data_hash) = 32),
            nullifier0        BLOB    NOT NULL CHECK (length(nullifier0) = 32),
            nullifier1        BLOB    NOT NULL CHECK (length(nullifier1) = 32),
            commitment0       BLOB    NOT NULL CHECK (length(commitment0) = 32),
            commitment1       BLOB    NOT NULL CHECK (length(commitment1) = 32),
            ext_data          BLOB    NOT NULL,
            proof_json        BLOB    NOT NULL,
            leaf_index0       INTEGER NOT NULL UNIQUE,
            leaf_index1       INTEGER NOT NULL UNIQUE CHECK (leaf_index1 = leaf_index0 + 1),
            receipt_signature BLOB    NOT NULL,
            created_at        INTEGER NOT NULL,
            UNIQUE (batch, position)
        ) STRICT;

        CREATE TABLE leaves (
            leaf_index        INTEGER PRIMARY KEY CHECK (leaf_index >= 0 AND leaf_index < 1048576),
            commitment        BLOB    NOT NULL CHECK (length(commitment) = 32),
            encrypted_output  BLOB    NOT NULL,
            transfer_id       BLOB    NOT NULL REFERENCES transfers(id),
            batch             INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE nullifiers (
            nullifier         BLOB    PRIMARY KEY CHECK (length(nullifier) = 32),
            transfer_id       BLOB    NOT NULL REFERENCES transfers(id),
            batch             INTEGER NOT NULL,
            spent_at          INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX nullifiers_by_batch ON nullifiers(batch);
        CREATE INDEX nullifiers_by_spent_at ON nullifiers(spent_at);

        -- The accepted-root window: the roots of the newest batches (pruned in each commit).
        CREATE TABLE roots (
            batch             INTEGER PRIMARY KEY REFERENCES batches(number),
            root              BLOB    NOT NULL CHECK (length(root) = 32)
        ) STRICT;

        CREATE TABLE payouts (
            id                INTEGER PRIMARY KEY AUTOINCREMENT,
            transfer_id       BLOB    NOT NULL UNIQUE REFERENCES transfers(id),
            recipient         TEXT    NOT NULL CHECK (length(CAST(recipient AS BLOB)) BETWEEN 1 AND 256),
            amount            INTEGER NOT NULL CHECK (amount > 0),
            status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid')),
            created_at        INTEGER NOT NULL,
            paid_at           INTEGER,
            CHECK ((status = 'paid') = (paid_at IS NOT NULL))
        ) STRICT;
        CREATE INDEX payouts_pending ON payouts(id) WHERE status = 'pending';

        -- The header chain: numbers 1, 2, 3, …; each previous_hash is the hash before it.
        CREATE TRIGGER batches_chain BEFORE INSERT ON batches
        WHEN NEW.number <> COALESCE((SELECT max(number) FROM batches), 0) + 1
          OR NEW.previous_hash <> COALESCE((SELECT hash FROM batches WHERE number = NEW.number - 1), zeroblob(32))
        BEGIN SELECT RAISE(ABORT, 'batch header does not extend the chain'); END;

        -- A leaf or nullifier belongs to its transfer's batch. (A trigger, not a composite
        -- foreign key: that would need a second random-key index on transfers, written on
        -- every commit; this reads the id index the foreign key reads anyway.)
        CREATE TRIGGER leaves_same_batch BEFORE INSERT ON leaves
        WHEN NEW.batch IS NOT (SELECT batch FROM transfers WHERE id = NEW.transfer_id)
        BEGIN SELECT RAISE(ABORT, 'a leaf belongs to its transfer''s batch'); END;
        CREATE TRIGGER nullifiers_same_batch BEFORE INSERT ON nullifiers
        WHEN NEW.batch IS NOT (SELECT batch FROM transfers WHERE id = NEW.transfer_id)
        BEGIN SELECT RAISE(ABORT, 'a nullifier belongs to its transfer''s batch'); END;

        -- Leaves are appended left to right with no gap.
        CREATE TRIGGER leaves_contiguous BEFORE INSERT ON leaves
        WHEN NEW.leaf_index <> COALESCE((SELECT max(leaf_index) FROM leaves), -1) + 1
        BEGIN SELECT RAISE(ABORT, 'leaf index is not the next free index'); END;

        -- Settled history is append-only.
        CREATE TRIGGER batches_no_update BEFORE UPDATE ON batches BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
        CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
        CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;
        CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;
        CREATE TRIGGER leaves_no_update BEFORE UPDATE ON leaves BEGIN SELECT RAISE(ABORT, 'leaves are append-only'); END;
        CREATE TRIGGER leaves_no_delete BEFORE DELETE ON leaves BEGIN SELECT RAISE(ABORT, 'leaves are append-only'); END;
        CREATE TRIGGER nullifiers_no_update BEFORE UPDATE ON nullifiers BEGIN SELECT RAISE(ABORT, 'nullifiers are append-only'); END;
        CREATE TRIGGER nullifiers_no_delete BEFORE DELETE ON nullifiers BEGIN SELECT RAISE(ABORT, 'nullifiers are append-only'); END;
        CREATE TRIGGER roots_no_update BEFORE UPDATE ON roots BEGIN SELECT RAISE(ABORT, 'roots are append-only'); END;
        -- Roots leave the window from the old end only; the newest root always stays.
        CREATE TRIGGER roots_prune_oldest BEFORE DELETE ON roots
        WHEN OLD.batch >= (SELECT max(batch) FROM roots)
        BEGIN SELECT RAISE(ABORT, 'the newest root never leaves the window'); END;
        -- A payout changes once, from pending to paid, and its terms never change.
        CREATE TRIGGER payouts_terms_fixed BEFORE UPDATE OF id, transfer_id, recipient, amount, created_at ON payouts
        BEGIN SELECT RAISE(ABORT, 'a payout''s terms never change'); END;
        CREATE TRIGGER payouts_paid_once BEFORE UPDATE OF status, paid_at ON payouts
        WHEN OLD.status <> 'pending'
        BEGIN SELECT RAISE(ABORT, 'a paid payout stays paid'); END;
        CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts BEGIN SELECT RAISE(ABORT, 'payouts are never deleted'); END;
        """

    /// Version 2: an index of batch roots. Every root the tree ever had is an accepted anchor
    /// (the tree is append-only), and roots older than the in-memory window are looked up here
    /// (`SQLiteLedger.batchNumber(ofRoot:)`). Not unique: a batch always adds leaves, so two
    /// batches never share a root, but the index need not promise it.
    static let v2 = """
        CREATE INDEX batches_by_root ON batches(root);
        """

    /// Version 3: deposit vouchers (issue 14). Each deposit from now on is paid for by a
    /// single-use voucher signed by the operator's deposit key; the voucher is recorded here in
    /// the deposit's own transaction, whole (113 bytes, `DepositVoucher.bytes`) so that an auditor
    /// can check its signature. `voucher_era` remembers the first batch of the voucher era: a
    /// ledger that settled deposits under the retired shared deposit token has no voucher for
    /// them, and the audit asks vouchers only of deposits from that batch on.
    static let v3 = """
        CREATE TABLE vouchers (
            nonce             BLOB    PRIMARY KEY CHECK (length(nonce) = 16),
            voucher           BLOB    NOT NULL CHECK (length(voucher) = 113),
            amount            INTEGER NOT NULL CHECK (amount > 0),
            expires_at        INTEGER NOT NULL,
            transfer_id       BLOB    NOT NULL UNIQUE REFERENCES transfers(id),
            batch             INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX vouchers_by_batch ON vouchers(batch);
        CREATE TRIGGER vouchers_same_batch BEFORE INSERT ON vouchers
        WHEN NEW.batch IS NOT (SELECT batch FROM transfers WHERE id = NEW.transfer_id)
        BEGIN SELECT RAISE(ABORT, 'a voucher belongs to its deposit''s batch'); END;
        CREATE TRIGGER vouchers_no_update BEFORE UPDATE ON vouchers BEGIN SELECT RAISE(ABORT, 'used vouchers are append-only'); END;
        CREATE TRIGGER vouchers_no_delete BEFORE DELETE ON vouchers BEGIN SELECT RAISE(ABORT, 'used vouchers are append-only'); END;

        CREATE TABLE voucher_era (
            first_batch       INTEGER NOT NULL CHECK (first_batch >= 1)
        ) STRICT;
        INSERT INTO voucher_era SELECT COALESCE(max(number), 0) + 1 FROM batches;
        CREATE TRIGGER voucher_era_once BEFORE INSERT ON voucher_era BEGIN SELECT RAISE(ABORT, 'the voucher era starts once'); END;
        CREATE TRIGGER voucher_era_no_update BEFORE UPDATE ON voucher_era BEGIN SELECT RAISE(ABORT, 'the voucher era starts once'); END;
        CREATE TRIGGER voucher_era_no_delete BEFORE DELETE ON voucher_era BEGIN SELECT RAISE(ABORT, 'the voucher era starts once'); END;
        """

    /// Version 4 (issue 14): trees roll over. When a tree is full the next one starts, so
    /// leaf indices are global and gap-free across trees (tree = index / capacity) and may pass
    /// 2^20, which v1's CHECK on `leaves.leaf_index` forbade: `leaves` is rebuilt without that
    /// bound (nothing references it, so the copy is safe under foreign keys; its triggers are
    /// created again). A batch names its tree, and its `leaf_count` counts the leaves of that
    /// tree (≤ capacity ≤ 2^20, so v1's CHECK on it still holds). `settings` keeps the tree
    /// capacity, fixed when the ledger is created; a ledger that already has batches was made
    /// with one tree of 2^20 leaves, and keeps that.
    static let v4 = """
        ALTER TABLE batches ADD COLUMN tree INTEGER NOT NULL DEFAULT 0 CHECK (tree >= 0);

        CREATE TABLE settings (
            name              TEXT    PRIMARY KEY,
            value             INTEGER NOT NULL
        ) STRICT;
        INSERT INTO settings (name, value) SELECT 'tree_capacity', 1048576 WHERE EXISTS (SELECT 1 FROM batches);
        CREATE TRIGGER settings_no_update BEFORE UPDATE ON settings BEGIN SELECT RAISE(ABORT, 'settings are fixed'); END;
        CREATE TRIGGER settings_no_delete BEFORE DELETE ON settings BEGIN SELECT RAISE(ABORT, 'settings are fixed'); END;

        CREATE TABLE leaves_v4 (
            leaf_index        INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
            commitment        BLOB    NOT NULL CHECK (length(commitment) = 32),
            encrypted_output  BLOB    NOT NULL,
            transfer_id       BLOB    NOT NULL REFERENCES transfers(id),
            batch             INTEGER NOT NULL
        ) STRICT;
        INSERT INTO leaves_v4 SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves ORDER BY leaf_index;
        DROP TABLE leaves;
        ALTER TABLE leaves_v4 RENAME TO leaves;
        CREATE TRIGGER leaves_same_batch BEFORE INSERT ON leaves
        WHEN NEW.batch IS NOT (SELECT batch FROM transfers WHERE id = NEW.transfer_id)
        BEGIN SELECT RAISE(ABORT, 'a leaf belongs to its transfer''s batch'); END;
        CREATE TRIGGER leaves_contiguous BEFORE INSERT ON leaves
        WHEN NEW.leaf_index <> COALESCE((SELECT max(leaf_index) FROM leaves), -1) + 1
        BEGIN SELECT RAISE(ABORT, 'leaf index is not the next free index'); END;
        CREATE TRIGGER leaves_no_update BEFORE UPDATE ON leaves BEGIN SELECT RAISE(ABORT, 'leaves are append-only'); END;
        CREATE TRIGGER leaves_no_delete BEFORE DELETE ON leaves BEGIN SELECT RAISE(ABORT, 'leaves are append-only'); END;
        """

    /// Version 5 (issue 16): each batch stores its tree's frontier after it (one 32-byte node
    /// per set bit of `leaf_count`, bottom up), so a writer that learns the batch appends after
    /// it without replaying the tree's leaves. NULL for the batches written before.
    static let v5 = """
        ALTER TABLE batches ADD COLUMN frontier BLOB CHECK (frontier IS NULL OR length(frontier) % 32 = 0);
        """
}
