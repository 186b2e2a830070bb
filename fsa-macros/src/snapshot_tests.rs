//! Expansion snapshots: what `cargo expand` shows for typical routes, pinned so that a change
//! to the generated code is always a visible diff. `FSA_BLESS=1 cargo test -p fsa-macros`
//! rewrites the snapshots.

use std::path::PathBuf;

use quote::quote;

fn expand_to_string(
    method: Option<&'static str>,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> String {
    let route = crate::model::Route::parse(method, args, item).unwrap_or_else(|e| panic!("route should parse: {e}"));
    let tokens = crate::expand::expand(&route);
    let file: syn::File = syn::parse2(tokens).unwrap_or_else(|e| panic!("expansion should parse: {e}"));
    prettyplease::unparse(&file)
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expand").join(format!("{name}.expanded.rs"));
    if std::env::var_os("FSA_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(expected, actual, "expansion of {name} changed; run with FSA_BLESS=1 to accept");
}

#[test]
fn open_route_with_path_and_query_parameters() {
    let out = expand_to_string(
        Some("GET"),
        quote!("/add/<a>", authorize = "OPEN"),
        quote! {
            fn add(a: i64, #[default(1)] b: i64) -> Json<i64> {
                Json(a + b)
            }
        },
    );
    check("add", &out);
}

#[test]
fn object_permission_route() {
    let out = expand_to_string(
        Some("PATCH"),
        quote!("/stuff/<id>", authorize = ("stuff", "id", "update"), auth = ["token", "basic"]),
        quote! {
            async fn patch_stuff(id: i64, name: String, user: CurrentUser) -> fsa::Result<Json<Stuff>> {
                update(id, name, user).await
            }
        },
    );
    check("patch_stuff", &out);
}
