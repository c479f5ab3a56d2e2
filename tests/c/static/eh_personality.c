/*
 * Stands for another Rust static library in the same program: it defines
 * rust_eh_personality too. tests/c/run.sh links it next to libcgm.a, which
 * links only because rust/cgm-ffi/build-static.sh made libcgm.a's own
 * rust_eh_personality local (a raw Rust staticlib fails with "multiple
 * definition of `rust_eh_personality'").
 */
int rust_eh_personality(void);
int rust_eh_personality(void) { return 0; }
