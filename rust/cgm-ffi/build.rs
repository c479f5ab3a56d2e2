//! Link arguments for the shared library: the soname `libcgm.so.0` (ABI major
//! 0) and a version script that exports the C API (`cgm_*`) and nothing else.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    println!("cargo:rerun-if-changed=libcgm.map");
    println!("cargo:rerun-if-changed=build.rs");
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcgm.so.0");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/libcgm.map");
    }
}
