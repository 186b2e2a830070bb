//! Code generation: the handler as written plus a hidden route struct.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::AuthzSpec;
use crate::model::Route;

pub fn expand(route: &Route) -> TokenStream {
    let func = &route.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let name_str = name.to_string();
    let methods = &route.methods;
    let path = route.attr.path.value();
    let pattern = &route.path.pattern;
    let p = quote!(::fsa::__private);

    let authz = route.authz.iter().map(|a| match a {
        AuthzSpec::Open(_) => quote!(#p::AuthzItem::Open),
        AuthzSpec::Auth(_) => quote!(#p::AuthzItem::Auth),
        AuthzSpec::Close(_) => quote!(#p::AuthzItem::Close),
        AuthzSpec::Group(g) => quote!(#p::AuthzItem::Group(#g)),
        AuthzSpec::GroupId(i, _) => quote!(#p::AuthzItem::GroupId(#i)),
        AuthzSpec::Perm { domain, vars, role, .. } => {
            let vars: Vec<String> = match vars {
                Some(v) => v.value().split(':').map(str::to_owned).collect(),
                None => route.args.first().map(|a| a.name.clone()).into_iter().collect(),
            };
            let role = opt_str(role.as_ref().map(|r| r.value()));
            quote!(#p::AuthzItem::Perm { domain: #domain, vars: &[#(#vars),*], role: #role })
        }
    });
    let authn = match &route.attr.authn {
        Some(list) => quote!(::core::option::Option::Some(&[#(#list),*])),
        None => quote!(::core::option::Option::None),
    };
    let realm = opt_str(route.attr.realm.as_ref().map(|r| r.value()));

    // Each argument's tier, asked once: a type no tier accepts is one error, on its type.
    let via_fns = route.args.iter().map(|a| {
        let ty = &a.ty;
        let via = via_ident(a);
        quote_spanned! {ty.span()=>
            fn #via() -> impl #p::ArgVia<#ty> {
                (&&&&&&#p::Arg::<#ty>::NEW).via()
            }
        }
    });
    let arg_defs = route.args.iter().map(|a| {
        let n = &a.name;
        let via = via_ident(a);
        let param = route.path_param(a);
        let in_path = param.is_some();
        // Only path arguments are asked about a path segment, and the rest of a path holds
        // slashes: no segment converter applies there.
        let path_ok =
            if param.is_none_or(|p| p.rest) { quote!(|_| true) } else { quote!(|s| #p::ArgVia::path_ok(#via(), s)) };
        quote!(#p::ArgDef::new(#n, #p::ArgVia::nature(#via()), #in_path, #path_ok))
    });

    let extracts = route.args.iter().map(|a| {
        let ty = &a.ty;
        let n = &a.name;
        let id = format_ident!("__arg_{}", a.ident.to_string().trim_start_matches("r#"));
        let default = match &a.default {
            // A string literal default fits the text types (`String`, `Option<String>`, …,
            // see `TextDefault`); any other expression must have the argument's type.
            Some((e @ syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. }), _)) => quote_spanned! {e.span()=>
                ::core::option::Option::Some(|| -> #ty { ::fsa::__private::TextDefault::from_text(#e) })
            },
            Some((e, _)) => quote_spanned!(e.span()=> ::core::option::Option::Some(|| -> #ty { #e })),
            None => quote!(::core::option::Option::None::<fn() -> #ty>),
        };
        let via = via_ident(a);
        quote_spanned! {ty.span()=>
            let #id = __errors.take(#p::ArgVia::extract(#via(), __ctx, #n, #default).await);
        }
    });
    let ids: Vec<_> =
        route.args.iter().map(|a| format_ident!("__arg_{}", a.ident.to_string().trim_start_matches("r#"))).collect();
    let somes = ids.iter().map(|id| quote!(::core::option::Option::Some(#id)));
    let unpack = if ids.is_empty() {
        quote!()
    } else {
        quote! {
            let (#(#somes,)*) = (#(#ids,)*) else {
                return ::core::result::Result::Err(__errors.into_error());
            };
        }
    };

    let perm_checks = route.perms.iter().map(|perm| {
        let domain = &perm.domain;
        let role = opt_str(perm.role.as_ref().map(|r| r.value()));
        let values = perm.vars.iter().map(|i| {
            let id = &ids[*i];
            quote!(::core::clone::Clone::clone(&#id))
        });
        let id_expr = if perm.vars.len() == 1 { quote!(#(#values)*) } else { quote!((#(#values,)*)) };
        quote!(__ctx.object_perm(#domain, #id_expr, #role).await?;)
    });
    let perm_defs = route.perms.iter().map(|perm| {
        let domain = &perm.domain;
        let tys: Vec<_> = perm.vars.iter().map(|i| &route.args[*i].ty).collect();
        let ty = if tys.len() == 1 { quote!(#(#tys)*) } else { quote!((#(#tys,)*)) };
        quote! {
            #p::PermDef { domain: #domain, id_type: #p::TypeId::of::<#ty>, id_type_name: ::core::any::type_name::<#ty>() }
        }
    });

    let ret_span = match &func.sig.output {
        syn::ReturnType::Default => func.sig.ident.span(),
        syn::ReturnType::Type(_, t) => t.span(),
    };
    // Every token of the call on the return type's span, `::fsa::__private` included: an
    // unmet bound (an error type without `Into<fsa::Error>`, say) is then reported there
    // rather than on the attribute. An async handler's future goes through `send_future` on
    // the handler's name, where a future that is not `Send` is then reported.
    let call = if func.sig.asyncness.is_some() {
        let future = quote_spanned!(func.sig.ident.span()=> ::fsa::__private::send_future(#name(#(#ids),*)));
        quote_spanned!(ret_span=> #future.await)
    } else {
        quote_spanned!(ret_span=> #name(#(#ids),*))
    };
    let respond = quote_spanned!(ret_span=> ::fsa::__private::Responder::respond(#call));

    quote! {
        #func

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        impl #p::Route for #name {
            fn def() -> #p::RouteDef {
                #[allow(unused_imports)]
                use #p::{ViaParam as _, ViaSerde as _, ViaSpecial as _, ViaUnsupported as _, ViaValidBody as _, ViaValidate as _};

                #(#via_fns)*

                fn __handler(__ctx: &mut #p::Ctx) -> #p::BoxFuture<'_, #p::HandlerResult> {
                    #p::Box::pin(async move {
                        #[allow(unused_mut)]
                        let mut __errors = __ctx.load_params().await?;
                        #(#extracts)*
                        #unpack
                        __errors.check()?;
                        #(#perm_checks)*
                        if let ::core::option::Option::Some(__resp) = __ctx.before_exec() {
                            return ::core::result::Result::Ok(__resp);
                        }
                        #respond
                    })
                }

                #p::RouteDef {
                    name: #name_str,
                    methods: &[#(#methods),*],
                    path: #path,
                    pattern: #pattern,
                    authz: &[#(#authz),*],
                    authn: #authn,
                    realm: #realm,
                    args: ::std::vec![#(#arg_defs),*],
                    perms: ::std::vec![#(#perm_defs),*],
                    handler: __handler,
                    location: (::core::file!(), ::core::line!()),
                }
            }
        }
    }
}

fn opt_str(s: Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// The name of the function answering an argument's tier (`__via_id`).
fn via_ident(a: &crate::sig::Arg) -> syn::Ident {
    format_ident!("__via_{}", a.ident.to_string().trim_start_matches("r#"))
}
