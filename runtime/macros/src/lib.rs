//! `#[handler]`: registers an `async fn` with the runtime at link time, where it is written.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitInt, LitStr, parse_macro_input};

/// Registers an `async fn` as a NATS endpoint.
///
/// `subject = "blog.author.create"` (required), `http = "POST /blog/author"`,
/// `roles = ["AUTHOR"]`, `queue_group = "name"` or `no_queue_group`, `timeout_ms = 5000`,
/// `concurrency = 64`, `durable = "consumer"` with `max_deliver = 5`. Every argument but the last implements `runtime::FromRequestParts`
/// (`Ctx`, `Meta`, `State<T>`, a caller); the last implements `runtime::FromRequest`, which
/// `Json<T>` adds for the JSON input.
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| args.parse(meta));
    parse_macro_input!(attr with parser);
    let function = parse_macro_input!(item as ItemFn);
    match expand(args, function) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Args {
    subject: Option<LitStr>,
    http: Option<(String, String)>,
    roles: Vec<String>,
    queue_group: Option<String>,
    no_queue_group: bool,
    timeout_ms: u64,
    concurrency: usize,
    durable: Option<String>,
    max_deliver: u32,
}

impl Args {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("subject") {
            self.subject = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("http") {
            let lit: LitStr = meta.value()?.parse()?;
            self.http = Some(parse_http(&lit)?);
        } else if meta.path.is_ident("roles") {
            let content;
            let value = meta.value()?;
            syn::bracketed!(content in value);
            let roles =
                content.parse_terminated(|input| input.parse::<LitStr>(), syn::Token![,])?;
            self.roles = roles.iter().map(|r| r.value().to_uppercase()).collect();
        } else if meta.path.is_ident("queue_group") {
            let lit: LitStr = meta.value()?.parse()?;
            self.queue_group = Some(lit.value());
        } else if meta.path.is_ident("no_queue_group") {
            self.no_queue_group = true;
        } else if meta.path.is_ident("timeout_ms") {
            self.timeout_ms = meta.value()?.parse::<LitInt>()?.base10_parse()?;
        } else if meta.path.is_ident("concurrency") {
            self.concurrency = meta.value()?.parse::<LitInt>()?.base10_parse()?;
        } else if meta.path.is_ident("durable") {
            let lit: LitStr = meta.value()?.parse()?;
            self.durable = Some(lit.value());
        } else if meta.path.is_ident("max_deliver") {
            self.max_deliver = meta.value()?.parse::<LitInt>()?.base10_parse()?;
        } else {
            return Err(meta.error(
                "unknown handler option; expected subject, http, roles, queue_group, no_queue_group, timeout_ms, concurrency, durable or max_deliver",
            ));
        }
        Ok(())
    }
}

fn parse_http(lit: &LitStr) -> syn::Result<(String, String)> {
    let value = lit.value();
    let mut parts = value.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(path), None)
            if matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE")
                && path.starts_with('/') =>
        {
            Ok((method.to_owned(), path.to_owned()))
        }
        _ => Err(syn::Error::new(
            lit.span(),
            "http must look like \"GET /blog/id/:id\"",
        )),
    }
}

fn expand(args: Args, function: ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let name = &function.sig.ident;
    let subject = args.subject.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "handler needs subject = \"service.area.verb\"",
        )
    })?;
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            "a handler must be an async fn",
        ));
    }
    if args.max_deliver != 0 && args.durable.is_none() {
        return Err(syn::Error::new(
            Span::call_site(),
            "max_deliver needs durable = \"consumer\"",
        ));
    }
    if args.no_queue_group && args.queue_group.is_some() {
        return Err(syn::Error::new(
            Span::call_site(),
            "queue_group and no_queue_group exclude each other",
        ));
    }

    // Every argument goes through a public trait: all but the last through `FromRequestParts`,
    // the last through `FromRequest` (which `Json<T>` and every `FromRequestParts` type implement).
    // The attribute never looks at a type's name; the traits say what an argument needs.
    let mut bindings = Vec::new();
    let mut names = Vec::new();
    let mut accesses = Vec::new();
    let mut needs = Vec::new();
    let count = function.sig.inputs.len();
    for (index, input) in function.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else {
            return Err(syn::Error::new_spanned(input, "a handler cannot take self"));
        };
        let ty = &typed.ty;
        let var = format_ident!("__arg{}", index);
        if index + 1 == count {
            bindings.push(quote_spanned! {ty.span()=>
                let #var = <#ty as ::runtime::FromRequest<_>>::from_request(&parts, payload)?;
            });
            accesses
                .push(quote_spanned! {ty.span()=> ::runtime::__private::access_of::<_, #ty>() });
            needs
                .push(quote_spanned! {ty.span()=> ::runtime::__private::needs_of::<_, #ty>(out); });
        } else {
            bindings.push(quote_spanned! {ty.span()=>
                let #var = <#ty as ::runtime::FromRequestParts>::from_request_parts(&parts)?;
            });
            accesses
                .push(quote_spanned! {ty.span()=> <#ty as ::runtime::FromRequestParts>::ACCESS });
            needs.push(
                quote_spanned! {ty.span()=> <#ty as ::runtime::FromRequestParts>::needs(out); },
            );
        }
        names.push(var);
    }
    let base_access = if args.roles.is_empty() {
        quote!(::runtime::Access::Public)
    } else {
        quote!(::runtime::Access::Bearer)
    };
    let access = quote!(#base_access #(.strictest(#accesses))*);

    let call_fn = format_ident!("__runtime_call_{}", name);
    let needs_fn = format_ident!("__runtime_needs_{}", name);
    let static_name = format_ident!("__RUNTIME_HANDLER_{}", name.to_string().to_uppercase());
    let http = match &args.http {
        Some((method, path)) => quote!(::core::option::Option::Some((#method, #path))),
        None => quote!(::core::option::Option::None),
    };
    let roles = &args.roles;
    let queue_group = match (&args.queue_group, args.no_queue_group) {
        (_, true) => quote!(None),
        (Some(group), false) => quote!(Named(#group)),
        (None, false) => quote!(Default),
    };
    let timeout_ms = args.timeout_ms;
    let concurrency = args.concurrency;
    let description = doc_text(&function);
    let max_deliver = args.max_deliver;
    let durable = match &args.durable {
        Some(durable) => quote!(::core::option::Option::Some(::runtime::Durable {
            name: #durable,
            max_deliver: #max_deliver,
        })),
        None => quote!(::core::option::Option::None),
    };

    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(unused_variables, clippy::ptr_arg)]
        fn #needs_fn(out: &mut ::std::vec::Vec<::runtime::Need>) {
            #(#needs)*
        }

        #[doc(hidden)]
        #[allow(unused_variables)]
        fn #call_fn(
            parts: ::runtime::Parts,
            payload: ::runtime::__private::Bytes,
        ) -> ::runtime::__private::BoxFuture<
            'static,
            ::core::result::Result<::runtime::__private::Bytes, ::runtime::ApiError>,
        > {
            ::std::boxed::Box::pin(async move {
                #(#bindings)*
                let output = #name(#(#names),*)
                    .await
                    .map_err(::core::convert::Into::<::runtime::ApiError>::into)?;
                ::runtime::__private::output(&output)
            })
        }

        #[doc(hidden)]
        #[::runtime::__private::linkme::distributed_slice(::runtime::__private::HANDLERS)]
        #[linkme(crate = ::runtime::__private::linkme)]
        static #static_name: ::runtime::HandlerDef = ::runtime::HandlerDef {
            subject: #subject,
            http: #http,
            roles: &[#(#roles),*],
            access: #access,
            queue_group: ::runtime::__private::QueueGroup::#queue_group,
            timeout_ms: #timeout_ms,
            concurrency: #concurrency,
            description: #description,
            location: ::core::concat!(::core::file!(), ":", ::core::line!()),
            needs: #needs_fn,
            durable: #durable,
            call: #call_fn,
        };
    })
}

fn doc_text(function: &ItemFn) -> String {
    function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
