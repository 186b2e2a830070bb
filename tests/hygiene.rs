//! The generated code relies on nothing from the caller's scope: no prelude, no imports.
#![no_implicit_prelude]

mod routes {
    #[::fsa::get("/h/<n>", authorize = "OPEN")]
    pub fn h(n: i64, #[default(1)] k: i64) -> ::fsa::Json<i64> {
        ::fsa::Json(n * k)
    }

    #[::fsa::post("/p", authorize = ("things", "id", "edit"))]
    pub async fn p(id: ::std::string::String) -> ::std::string::String {
        id
    }
}

#[test]
fn routes_expand_without_prelude() {
    let defs = ::fsa::routes![routes::h, routes::p];
    ::std::assert_eq!(defs.len(), 2);
    ::std::assert_eq!(defs[0].pattern, "/h/{n}");
    ::std::assert_eq!(defs[1].methods, &["POST"]);
}
