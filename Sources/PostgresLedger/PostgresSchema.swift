import Ledger
import PostgresNIO

/// The PostgreSQL ledger's schema as an append-only list of migrations (a shipped step is never
/// edited; a change is a new step), recorded in `schema_migrations` and applied at open under an
/// advisory lock, so nodes that start at once apply each step exactly once.
///
/// The schema enforces the SQLite ledger's invariants by itself (`SQLiteLedger+Schema.swift`):
/// 32-byte field elements, hashes and ids; a nullifier spent once across every tree (primary
/// key); leaves appended contiguously from 0; batch numbers 1, 2, 3, … each naming the hash of
/// the one before; every leaf, nullifier and voucher in its transfer's batch; settled history
/// append-only (UPDATE, DELETE and TRUNCATE refused); a payout changes once, pending → paid; a
/// voucher is used once.
enum PostgresSchema {
    static let migrations: [String] = [v1, v2, v3]
    static var currentVersion: Int64 { Int64(migrations.count) }

    static func migrate(_ slot: ConnectionSlot) throws {
        try slot.transaction("BEGIN") { s in
            // The lock first: two nodes creating the table at once would collide.
            try s.run("SELECT pg_advisory_xact_lock(\(PostgresLedger.migrationLockKey))")
            try s.script("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let applied = try s.rows("SELECT COALESCE(max(version), 0) FROM schema_migrations").first.map { try $0.decode(Int64.self) } ?? 0
            if applied > currentVersion { throw LedgerError.schemaTooNew(found: applied, supported: currentVersion) }
            for (k, step) in migrations.enumerated() where Int64(k + 1) > applied {
                try s.script(step)
                try s.run("INSERT INTO schema_migrations (version) VALUES (\(Int64(k + 1)))")
            }
        }
    }

    /// Version 1: the SQLite ledger's schema 4 in PostgreSQL's words, with the keys the ledger
    /// was made with (`key_digests`). No recent-root table: the sequencer's window comes from
    /// `batches` (indexed by number), and every root is an anchor through `batches_by_root`.
    static let v1 = """
        CREATE TABLE settings (
            name              text    PRIMARY KEY,
            value             bigint  NOT NULL
        );
        CREATE TABLE key_digests (
            name              text    PRIMARY KEY,
            digest            bytea   NOT NULL CHECK (length(digest) = 32)
        );

        CREATE TABLE batches (
            number            bigint  PRIMARY KEY CHECK (number >= 1),
            previous_hash     bytea   NOT NULL CHECK (length(previous_hash) = 32),
            hash              bytea   NOT NULL UNIQUE CHECK (length(hash) = 32),
            tree              bigint  NOT NULL CHECK (tree >= 0),
            root              bytea   NOT NULL CHECK (length(root) = 32),
            leaf_count        bigint  NOT NULL CHECK (leaf_count >= 0 AND leaf_count <= 1048576),
            transfer_count    bigint  NOT NULL CHECK (transfer_count >= 0),
            created_at        bigint  NOT NULL
        );
        CREATE INDEX batches_by_root ON batches (root);

        CREATE TABLE transfers (
            id                bytea   PRIMARY KEY CHECK (length(id) = 32),
            batch             bigint  NOT NULL REFERENCES batches (number),
            position          bigint  NOT NULL CHECK (position >= 0),
            root              bytea   NOT NULL CHECK (length(root) = 32),
            public_amount     bytea   NOT NULL CHECK (length(public_amount) = 32),
            ext_data_hash     bytea   NOT NULL CHECK (length(ext_data_hash) = 32),
            nullifier0        bytea   NOT NULL CHECK (length(nullifier0) = 32),
            nullifier1        bytea   NOT NULL CHECK (length(nullifier1) = 32),
            commitment0       bytea   NOT NULL CHECK (length(commitment0) = 32),
            commitment1       bytea   NOT NULL CHECK (length(commitment1) = 32),
            ext_data          bytea   NOT NULL,
            proof_json        bytea   NOT NULL,
            leaf_index0       bigint  NOT NULL UNIQUE,
            leaf_index1       bigint  NOT NULL UNIQUE CHECK (leaf_index1 = leaf_index0 + 1),
            receipt_signature bytea   NOT NULL,
            created_at        bigint  NOT NULL,
            UNIQUE (batch, position)
        );

        CREATE TABLE leaves (
            leaf_index        bigint  PRIMARY KEY CHECK (leaf_index >= 0),
            commitment        bytea   NOT NULL CHECK (length(commitment) = 32),
            encrypted_output  bytea   NOT NULL,
            transfer_id       bytea   NOT NULL REFERENCES transfers (id),
            batch             bigint  NOT NULL
        );

        CREATE TABLE nullifiers (
            nullifier         bytea   PRIMARY KEY CHECK (length(nullifier) = 32),
            transfer_id       bytea   NOT NULL REFERENCES transfers (id),
            batch             bigint  NOT NULL,
            spent_at          bigint  NOT NULL
        );
        CREATE INDEX nullifiers_by_batch ON nullifiers (batch);
        CREATE INDEX nullifiers_by_spent_at ON nullifiers (spent_at);

        CREATE TABLE payouts (
            id                bigserial PRIMARY KEY,
            transfer_id       bytea   NOT NULL UNIQUE REFERENCES transfers (id),
            recipient         text    NOT NULL CHECK (octet_length(recipient) BETWEEN 1 AND 256),
            amount            bigint  NOT NULL CHECK (amount > 0),
            status            text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid')),
            created_at        bigint  NOT NULL,
            paid_at           bigint,
            CHECK ((status = 'paid') = (paid_at IS NOT NULL))
        );
        CREATE INDEX payouts_pending ON payouts (id) WHERE status = 'pending';

        CREATE TABLE vouchers (
            nonce             bytea   PRIMARY KEY CHECK (length(nonce) = 16),
            voucher           bytea   NOT NULL CHECK (length(voucher) = 113),
            amount            bigint  NOT NULL CHECK (amount > 0),
            expires_at        bigint  NOT NULL,
            transfer_id       bytea   NOT NULL UNIQUE REFERENCES transfers (id),
            batch             bigint  NOT NULL
        );
        CREATE INDEX vouchers_by_batch ON vouchers (batch);

        -- The header chain: numbers 1, 2, 3, …; each previous_hash is the hash before it.
        CREATE FUNCTION zksettle_batches_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.number <> COALESCE((SELECT max(number) FROM batches), 0) + 1
               OR NEW.previous_hash <> COALESCE((SELECT hash FROM batches WHERE number = NEW.number - 1), '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) THEN
                RAISE EXCEPTION 'batch header does not extend the chain';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER batches_chain BEFORE INSERT ON batches FOR EACH ROW EXECUTE FUNCTION zksettle_batches_chain();

        -- A leaf, nullifier or voucher belongs to its transfer's batch; leaves are appended left
        -- to right with no gap. Checked once per statement over its new rows (a commit inserts
        -- each table's rows in one statement), not once per row: a row trigger costs a plpgsql
        -- call and a query per leaf and per nullifier.
        CREATE FUNCTION zksettle_same_batch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN transfers t ON t.id = n.transfer_id
                       WHERE t.batch IS DISTINCT FROM n.batch) THEN
                RAISE EXCEPTION 'a % row belongs to its transfer''s batch', TG_TABLE_NAME;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER leaves_same_batch AFTER INSERT ON leaves REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION zksettle_same_batch();
        CREATE TRIGGER nullifiers_same_batch AFTER INSERT ON nullifiers REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION zksettle_same_batch();
        CREATE TRIGGER vouchers_same_batch AFTER INSERT ON vouchers REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION zksettle_same_batch();

        -- After the statement: its leaves are first..last with no gap (their count is the span;
        -- the primary key makes them distinct), the leaf before them is first - 1 (or there is
        -- none and first is 0), and no leaf lies beyond them.
        CREATE FUNCTION zksettle_leaves_contiguous() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE lo bigint; hi bigint; n bigint; before bigint; top bigint;
        BEGIN
            SELECT min(leaf_index), max(leaf_index), count(*) INTO lo, hi, n FROM new_rows;
            IF n = 0 THEN RETURN NULL; END IF;
            SELECT max(leaf_index) INTO before FROM leaves WHERE leaf_index < lo;
            SELECT max(leaf_index) INTO top FROM leaves;
            IF hi - lo + 1 <> n OR COALESCE(before, -1) <> lo - 1 OR top <> hi THEN
                RAISE EXCEPTION 'leaves % to % are not the next free indices', lo, hi;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER leaves_contiguous AFTER INSERT ON leaves REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION zksettle_leaves_contiguous();

        -- Settled history is append-only.
        CREATE FUNCTION zksettle_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
        END $$;
        CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER leaves_append_only BEFORE UPDATE OR DELETE ON leaves FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER nullifiers_append_only BEFORE UPDATE OR DELETE ON nullifiers FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER vouchers_append_only BEFORE UPDATE OR DELETE ON vouchers FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER settings_append_only BEFORE UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER key_digests_append_only BEFORE UPDATE OR DELETE ON key_digests FOR EACH ROW EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER batches_no_truncate BEFORE TRUNCATE ON batches FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER leaves_no_truncate BEFORE TRUNCATE ON leaves FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER nullifiers_no_truncate BEFORE TRUNCATE ON nullifiers FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER vouchers_no_truncate BEFORE TRUNCATE ON vouchers FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();
        CREATE TRIGGER payouts_no_truncate BEFORE TRUNCATE ON payouts FOR EACH STATEMENT EXECUTE FUNCTION zksettle_append_only();

        -- A payout changes once, from pending to paid, and its terms never change.
        CREATE FUNCTION zksettle_payouts_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'payouts are never deleted'; END IF;
            IF NEW.id <> OLD.id OR NEW.transfer_id <> OLD.transfer_id OR NEW.recipient <> OLD.recipient
               OR NEW.amount <> OLD.amount OR NEW.created_at <> OLD.created_at THEN
                RAISE EXCEPTION 'a payout''s terms never change';
            END IF;
            IF OLD.status <> 'pending' THEN RAISE EXCEPTION 'a paid payout stays paid'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER payouts_update BEFORE UPDATE OR DELETE ON payouts FOR EACH ROW EXECUTE FUNCTION zksettle_payouts_update();
        """

    /// Version 2 (issue 16): each batch stores its tree's frontier after it (one 32-byte node
    /// per set bit of `leaf_count`, bottom up), so a node that learns another's batch appends
    /// after it without replaying leaves. NULL for the batches written before.
    static let v2 = """
        ALTER TABLE batches ADD COLUMN frontier bytea CHECK (frontier IS NULL OR length(frontier) % 32 = 0);
        """

    /// Version 3 (issue 16, parallel trees): a ledger of K open trees (`settings.open_trees`,
    /// 1 when absent) has K lanes (`OpenTrees`). Each batch records its lane, (number − 1) mod K,
    /// indexed with its number so that a writer finds its lane's last batch in one probe. The
    /// chain is checked per lane: a batch's tree is of its lane, and its header names the hash
    /// of batch number − K (the genesis hash for number ≤ K); with the primary key that keeps
    /// each lane's numbers gap-free. Leaves are contiguous per tree: a statement's leaves lie in
    /// one tree, follow the leaf before them in it (or, at a tree's first leaf, the last leaf of
    /// the lane's previous tree, which must be full), and nothing of that tree lies beyond. With
    /// K = 1 both rules are the ones of version 1.
    static let v3 = """
        ALTER TABLE batches ADD COLUMN lane bigint NOT NULL DEFAULT 0 CHECK (lane >= 0);
        CREATE INDEX batches_by_lane ON batches (lane, number);

        CREATE OR REPLACE FUNCTION zksettle_batches_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE k bigint := COALESCE((SELECT value FROM settings WHERE name = 'open_trees'), 1);
        BEGIN
            IF NEW.lane <> (NEW.number - 1) % k OR NEW.tree % k <> NEW.lane
               OR NEW.previous_hash IS DISTINCT FROM (CASE WHEN NEW.number <= k
                    THEN '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                    ELSE (SELECT hash FROM batches WHERE number = NEW.number - k) END) THEN
                RAISE EXCEPTION 'batch header does not extend its lane''s chain';
            END IF;
            RETURN NEW;
        END $$;

        CREATE OR REPLACE FUNCTION zksettle_leaves_contiguous() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE lo bigint; hi bigint; n bigint; cap bigint; k bigint; t bigint;
        BEGIN
            SELECT min(leaf_index), max(leaf_index), count(*) INTO lo, hi, n FROM new_rows;
            IF n = 0 THEN RETURN NULL; END IF;
            cap := COALESCE((SELECT value FROM settings WHERE name = 'tree_capacity'), 1048576);
            k := COALESCE((SELECT value FROM settings WHERE name = 'open_trees'), 1);
            t := lo / cap;
            IF hi / cap <> t OR hi - lo + 1 <> n
               OR (lo % cap <> 0 AND NOT EXISTS (SELECT 1 FROM leaves WHERE leaf_index = lo - 1))
               OR (lo % cap = 0 AND t >= k AND NOT EXISTS (SELECT 1 FROM leaves WHERE leaf_index = (t - k + 1) * cap - 1))
               OR EXISTS (SELECT 1 FROM leaves WHERE leaf_index > hi AND leaf_index < (t + 1) * cap) THEN
                RAISE EXCEPTION 'leaves % to % are not the next free indices of tree %', lo, hi, t;
            END IF;
            RETURN NULL;
        END $$;
        """
}
