//! Generates the gRPC code for `proto/henge.proto` with tonic-prost-build (needs `protoc`,
//! installed by `scripts/install-deps`, or pointed at by `PROTOC`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/henge.proto");
    tonic_prost_build::configure().compile_protos(&["proto/henge.proto"], &["proto"])?;
    Ok(())
}
