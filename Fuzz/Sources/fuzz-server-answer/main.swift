import FuzzTargets

// libFuzzer entry point (built with --sanitize=fuzzer, which supplies main): see Fuzz/README.md.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    FuzzTarget.serverAnswer.run(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
