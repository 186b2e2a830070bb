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
            ViaParam as _, ViaSerde as _, ViaSpecial as _, ViaValidate as _,
        };
        fn __handler(
            __ctx: &mut ::fsa::__private::Ctx,
        ) -> ::fsa::__private::BoxFuture<'_, ::fsa::__private::HandlerResult> {
            #[allow(unused_imports)]
            use ::fsa::__private::{
                ViaParam as _, ViaSerde as _, ViaSpecial as _, ViaValidate as _,
            };
            ::fsa::__private::Box::pin(async move {
                #[allow(unused_mut)]
                let mut __errors = __ctx.load_params().await?;
                let __arg_a = __errors
                    .take(
                        (&&&&::fsa::__private::Arg::<i64>::NEW)
                            .extract(
                                __ctx,
                                "a",
                                ::core::option::Option::None::<fn() -> i64>,
                            )
                            .await,
                    );
                let __arg_b = __errors
                    .take(
                        (&&&&::fsa::__private::Arg::<i64>::NEW)
                            .extract(
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
                ::fsa::__private::ArgDef::new("a", (&& && ::fsa::__private::Arg:: < i64 >
                ::NEW).nature(), true, | s | (&& && ::fsa::__private::Arg:: < i64 >
                ::NEW).path_ok(s)), ::fsa::__private::ArgDef::new("b", (&& &&
                ::fsa::__private::Arg:: < i64 > ::NEW).nature(), false, | _ | true)
            ],
            perms: ::std::vec![],
            handler: __handler,
            location: (::core::file!(), ::core::line!()),
        }
    }
}
