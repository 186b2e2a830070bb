//! Compile-time errors of the route attributes, pinned with trybuild (`TRYBUILD=overwrite` to re-bless).

#[test]
fn route_attribute_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
