//! Compile-time errors of the route attributes, pinned with trybuild (`TRYBUILD=overwrite` to re-bless).
//! The accepted forms are compiled and served in `tests/route_forms.rs`.

#[test]
fn route_attribute_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
