/// The release of ZKSettle these tools and this server belong to: `--version` of each tool,
/// `version` in `/healthz` and the admin stats. One place, bumped with each release
/// (DEVELOPERS.md); the wire format has its own versions (`/v1/…`, voucher and note versions).
public enum ZKSettleVersion {
    public static let string = "0.9.0"
}
