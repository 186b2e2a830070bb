async fn patch_stuff(
    id: i64,
    name: String,
    user: CurrentUser,
) -> fsa::Result<Json<Stuff>> {
    update(id, name, user).await
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
struct patch_stuff {}
impl ::fsa::__private::Route for patch_stuff {
    fn def() -> ::fsa::__private::RouteDef {
        #[allow(unused_imports)]
        use ::fsa::__private::{
            ViaParam as _, ViaSerde as _, ViaSpecial as _, ViaUnsupported as _,
            ViaValidBody as _, ViaValidate as _,
        };
        fn __via_id() -> impl ::fsa::__private::ArgVia<i64> {
            (&&&&&&::fsa::__private::Arg::<i64>::NEW).via()
        }
        fn __via_name() -> impl ::fsa::__private::ArgVia<String> {
            (&&&&&&::fsa::__private::Arg::<String>::NEW).via()
        }
        fn __via_user() -> impl ::fsa::__private::ArgVia<CurrentUser> {
            (&&&&&&::fsa::__private::Arg::<CurrentUser>::NEW).via()
        }
        fn __handler(
            __ctx: &mut ::fsa::__private::Ctx,
        ) -> ::fsa::__private::BoxFuture<'_, ::fsa::__private::HandlerResult> {
            ::fsa::__private::Box::pin(async move {
                #[allow(unused_mut)]
                let mut __errors = __ctx.load_params().await?;
                let __arg_id = __errors
                    .take(
                        ::fsa::__private::ArgVia::extract(
                                __via_id(),
                                __ctx,
                                "id",
                                ::core::option::Option::None::<fn() -> i64>,
                            )
                            .await,
                    );
                let __arg_name = __errors
                    .take(
                        ::fsa::__private::ArgVia::extract(
                                __via_name(),
                                __ctx,
                                "name",
                                ::core::option::Option::None::<fn() -> String>,
                            )
                            .await,
                    );
                let __arg_user = __errors
                    .take(
                        ::fsa::__private::ArgVia::extract(
                                __via_user(),
                                __ctx,
                                "user",
                                ::core::option::Option::None::<fn() -> CurrentUser>,
                            )
                            .await,
                    );
                let (
                    ::core::option::Option::Some(__arg_id),
                    ::core::option::Option::Some(__arg_name),
                    ::core::option::Option::Some(__arg_user),
                ) = (__arg_id, __arg_name, __arg_user) else {
                    return ::core::result::Result::Err(__errors.into_error());
                };
                __errors.check()?;
                __ctx
                    .object_perm(
                        "stuff",
                        ::core::clone::Clone::clone(&__arg_id),
                        ::core::option::Option::Some("update"),
                    )
                    .await?;
                if let ::core::option::Option::Some(__resp) = __ctx.before_exec() {
                    return ::core::result::Result::Ok(__resp);
                }
                ::fsa::__private::Responder::respond(
                    ::fsa::__private::send_future(
                            patch_stuff(__arg_id, __arg_name, __arg_user),
                        )
                        .await,
                )
            })
        }
        ::fsa::__private::RouteDef {
            name: "patch_stuff",
            methods: &["PATCH"],
            path: "/stuff/<id>",
            pattern: "/stuff/{id}",
            authz: &[
                ::fsa::__private::AuthzItem::Perm {
                    domain: "stuff",
                    vars: &["id"],
                    role: ::core::option::Option::Some("update"),
                },
            ],
            authn: ::core::option::Option::Some(&["token", "basic"]),
            realm: ::core::option::Option::None,
            args: ::std::vec![
                ::fsa::__private::ArgDef::new("id",
                ::fsa::__private::ArgVia::nature(__via_id()), true, | s |
                ::fsa::__private::ArgVia::path_ok(__via_id(), s)),
                ::fsa::__private::ArgDef::new("name",
                ::fsa::__private::ArgVia::nature(__via_name()), false, | _ | true),
                ::fsa::__private::ArgDef::new("user",
                ::fsa::__private::ArgVia::nature(__via_user()), false, | _ | true)
            ],
            perms: ::std::vec![
                ::fsa::__private::PermDef { domain : "stuff", id_type :
                ::fsa::__private::TypeId::of:: < i64 >, id_type_name :
                ::core::any::type_name:: < i64 > () }
            ],
            handler: __handler,
            location: (::core::file!(), ::core::line!()),
        }
    }
}
