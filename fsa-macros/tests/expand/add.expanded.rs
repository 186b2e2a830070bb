fn add(a: i64, b: i64) -> Json<i64> {
    Json(a + b)
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
struct add {}
impl ::fsa::__private::Route for add {
    fn def() -> ::fsa::__private::RouteDef {
        #[allow(unused_imports)]
        use ::fsa::__private::{
            ViaParam as _, ViaSerde as _, ViaSpecial as _, ViaUnsupported as _,
            ViaValidBody as _, ViaValidate as _,
        };
        fn __via_a() -> impl ::fsa::__private::ArgVia<i64> {
            (&&&&&&::fsa::__private::Arg::<i64>::NEW).via()
        }
        fn __via_b() -> impl ::fsa::__private::ArgVia<i64> {
            (&&&&&&::fsa::__private::Arg::<i64>::NEW).via()
        }
        fn __handler(
            __ctx: &mut ::fsa::__private::Ctx,
        ) -> ::fsa::__private::BoxFuture<'_, ::fsa::__private::HandlerResult> {
            ::fsa::__private::Box::pin(async move {
                #[allow(unused_mut)]
                let mut __errors = __ctx.load_params().await?;
                let __arg_a = __errors
                    .take(
                        ::fsa::__private::ArgVia::extract(
                                __via_a(),
                                __ctx,
                                "a",
                                ::core::option::Option::None::<fn() -> i64>,
                            )
                            .await,
                    );
                let __arg_b = __errors
                    .take(
                        ::fsa::__private::ArgVia::extract(
                                __via_b(),
                                __ctx,
                                "b",
                                ::core::option::Option::Some(|| -> i64 { 1 }),
                            )
                            .await,
                    );
                let (
                    ::core::option::Option::Some(__arg_a),
                    ::core::option::Option::Some(__arg_b),
                ) = (__arg_a, __arg_b) else {
                    return ::core::result::Result::Err(__errors.into_error());
                };
                __errors.check()?;
                if let ::core::option::Option::Some(__resp) = __ctx.before_exec() {
                    return ::core::result::Result::Ok(__resp);
                }
                ::fsa::__private::Responder::respond(add(__arg_a, __arg_b))
            })
        }
        ::fsa::__private::RouteDef {
            name: "add",
            methods: &["GET"],
            path: "/add/<a>",
            pattern: "/add/{a}",
            authz: &[::fsa::__private::AuthzItem::Open],
            authn: ::core::option::Option::None,
            realm: ::core::option::Option::None,
            args: ::std::vec![
                ::fsa::__private::ArgDef::new("a",
                ::fsa::__private::ArgVia::nature(__via_a()), true, | s |
                ::fsa::__private::ArgVia::path_ok(__via_a(), s)),
                ::fsa::__private::ArgDef::new("b",
                ::fsa::__private::ArgVia::nature(__via_b()), false, | _ | true)
            ],
            perms: ::std::vec![],
            handler: __handler,
            location: (::core::file!(), ::core::line!()),
        }
    }
}
