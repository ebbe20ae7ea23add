//! The machinery behind typed record objects: lenient conversion from [`Json`],
//! lossless conversion back, and per-member camelCase/snake_case spelling.

use crate::json::Json;

/// Which member spelling to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Each member as it was spelled on input (the default, and lossless).
    AsParsed,
    /// camelCase: `serviceName`, `cloudResources[].resource.resourceId`.
    Camel,
    /// snake_case, Confluent's `AuditLog.v2` form: `service_name`, `resource_id`.
    Snake,
}

/// The wire form a whole record was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireForm {
    /// Every member with two spellings used camelCase (or none had two spellings).
    Camel,
    /// Every member with two spellings used snake_case.
    Snake,
    /// Some of each.
    Mixed,
}

impl WireForm {
    /// `camel`, `snake` or `mixed`.
    pub fn as_str(self) -> &'static str {
        match self {
            WireForm::Camel => "camel",
            WireForm::Snake => "snake",
            WireForm::Mixed => "mixed",
        }
    }
}

/// Which members of one object were spelled in snake_case; bit `i` is field `i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spelling(pub u32);

impl Spelling {
    pub(crate) fn is_snake(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
    pub(crate) fn set_snake(&mut self, i: usize) {
        self.0 |= 1 << i;
    }
}

/// The two spellings of a member name.
#[derive(Debug, Clone, Copy)]
pub struct FieldName {
    /// camelCase spelling.
    pub camel: &'static str,
    /// snake_case spelling (equal to `camel` for one-word names).
    pub snake: &'static str,
}

/// Tally of spellings seen, used to classify a whole record.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpellingTally {
    /// Members with two spellings written in camelCase.
    pub camel: usize,
    /// Members with two spellings written in snake_case.
    pub snake: usize,
}

/// Lenient conversion from a parsed value.
pub trait FromJson: Sized {
    /// Shallow check: does `v` have the JSON type this needs? When it returns
    /// true, [`FromJson::from_json`] must succeed.
    fn accepts(v: &Json) -> bool;
    /// Convert, or give the value back untouched when it has the wrong type.
    fn from_json(v: Json) -> Result<Self, Json>;
    /// What this needs, for messages: "a string", "an array of objects", …
    fn expected() -> String;
    /// Where and why `v` (at `path`) is not acceptable: the innermost offending
    /// path, what was expected there and the JSON type found.
    fn explain(v: &Json, path: &str) -> (String, String, &'static str) {
        (path.to_owned(), Self::expected(), v.type_name())
    }
}

/// A known member that could not be used, found by [`Inspect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberIssue {
    /// The member has the wrong JSON type.
    WrongType {
        /// JSON path of the offending value.
        path: String,
        /// What was expected.
        expected: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// Both spellings of one member are present; the first one is used.
    ConflictingSpelling {
        /// JSON path of the ignored spelling.
        path: String,
        /// The spelling in use.
        used: &'static str,
    },
}

/// Walk a typed value and report known members that ended up in `extra`.
pub trait Inspect {
    /// Append issues found at or below `path`.
    fn member_issues(&self, _path: &crate::path::Lazy<'_>, _out: &mut Vec<MemberIssue>) {}
}
impl Inspect for String {}
impl Inspect for bool {}
impl Inspect for Json {}
impl<T: Inspect> Inspect for Vec<T> {
    fn member_issues(&self, path: &crate::path::Lazy<'_>, out: &mut Vec<MemberIssue>) {
        for (i, x) in self.iter().enumerate() {
            x.member_issues(&path.index(i), out);
        }
    }
}
impl<T: Inspect> Inspect for OneOrMany<T> {
    fn member_issues(&self, path: &crate::path::Lazy<'_>, out: &mut Vec<MemberIssue>) {
        match self {
            OneOrMany::One(t) => t.member_issues(path, out),
            OneOrMany::Many(v) => v.member_issues(path, out),
        }
    }
}

/// Lossless conversion back to a value.
pub trait ToJson {
    /// The value, with member names written in `form`.
    fn to_json(&self, form: Form) -> Json;
    /// Count the spellings used below this value.
    fn tally(&self, _t: &mut SpellingTally) {}
}

impl FromJson for String {
    fn expected() -> String {
        "a string".into()
    }
    fn accepts(v: &Json) -> bool {
        matches!(v, Json::String(_))
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        match v {
            Json::String(s) => Ok(s),
            other => Err(other),
        }
    }
}
impl ToJson for String {
    fn to_json(&self, _: Form) -> Json {
        Json::String(self.clone())
    }
}

impl FromJson for bool {
    fn expected() -> String {
        "a boolean".into()
    }
    fn accepts(v: &Json) -> bool {
        matches!(v, Json::Bool(_))
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        match v {
            Json::Bool(b) => Ok(b),
            other => Err(other),
        }
    }
}
impl ToJson for bool {
    fn to_json(&self, _: Form) -> Json {
        Json::Bool(*self)
    }
}

/// Free-form members (`request.data`, `result.data`, …) are kept as they are.
impl FromJson for Json {
    fn expected() -> String {
        "any value".into()
    }
    fn accepts(_: &Json) -> bool {
        true
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        Ok(v)
    }
}
impl ToJson for Json {
    fn to_json(&self, _: Form) -> Json {
        self.clone()
    }
}

impl<T: FromJson + ToJson> FromJson for Vec<T> {
    fn expected() -> String {
        let inner = T::expected();
        let noun = inner.trim_start_matches("an ").trim_start_matches("a ");
        format!("an array of {noun}s")
    }
    fn accepts(v: &Json) -> bool {
        matches!(v, Json::Array(items) if items.iter().all(T::accepts))
    }
    fn explain(v: &Json, path: &str) -> (String, String, &'static str) {
        if let Json::Array(items) = v {
            for (i, item) in items.iter().enumerate() {
                if !T::accepts(item) {
                    return T::explain(item, &crate::path::index(path, i));
                }
            }
        }
        (path.to_owned(), Self::expected(), v.type_name())
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        if !Self::accepts(&v) {
            return Err(v);
        }
        let Json::Array(items) = v else { return Err(v) };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match T::from_json(item) {
                Ok(t) => out.push(t),
                // Unreachable while `accepts` keeps its contract; rebuild the
                // array rather than lose anything if it ever breaks.
                Err(bad) => {
                    let mut back: Vec<Json> =
                        out.iter().map(|t| t.to_json(Form::AsParsed)).collect();
                    back.push(bad);
                    return Err(Json::Array(back));
                }
            }
        }
        Ok(out)
    }
}
impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self, form: Form) -> Json {
        Json::Array(self.iter().map(|t| t.to_json(form)).collect())
    }
    fn tally(&self, t: &mut SpellingTally) {
        self.iter().for_each(|x| x.tally(t));
    }
}

/// A member that is sometimes one value and sometimes a list of them, such as
/// `requestMetadata.requestId` (`["…"]` in Cloud records, `"…"` in some).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// All values, in order.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t),
            OneOrMany::Many(v) => v,
        }
    }
}

impl<T: FromJson + ToJson> FromJson for OneOrMany<T> {
    fn expected() -> String {
        format!("{} or {}", T::expected(), Vec::<T>::expected())
    }
    fn accepts(v: &Json) -> bool {
        T::accepts(v) || Vec::<T>::accepts(v)
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        if matches!(v, Json::Array(_)) {
            Vec::<T>::from_json(v).map(OneOrMany::Many)
        } else {
            T::from_json(v).map(OneOrMany::One)
        }
    }
}
impl<T: ToJson> ToJson for OneOrMany<T> {
    fn to_json(&self, form: Form) -> Json {
        match self {
            OneOrMany::One(t) => t.to_json(form),
            OneOrMany::Many(v) => v.to_json(form),
        }
    }
    fn tally(&self, t: &mut SpellingTally) {
        self.as_slice().iter().for_each(|x| x.tally(t));
    }
}

/// Declare a typed JSON object.
///
/// Each field is `Option<T>` and has a camelCase and a snake_case spelling.
/// Parsing accepts either; a member with the wrong JSON type, a second
/// spelling of a member already seen, and any unknown member all go to
/// `extra` untouched, so nothing is lost and nothing is rejected.
macro_rules! json_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = ($camel:literal, $snake:literal) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            /// Unknown members, and known members whose value had an unexpected JSON type, kept verbatim.
            pub extra: $crate::json::Object,
            /// Which members were spelled in snake_case on input.
            pub spelling: $crate::record::fields::Spelling,
        }

        impl $name {
            /// The members this object knows, in declaration order.
            pub const FIELDS: &'static [$crate::record::fields::FieldName] = &[
                $( $crate::record::fields::FieldName { camel: $camel, snake: $snake }, )*
            ];

            /// How the member whose camelCase name is `camel` is spelled in this object
            /// (its snake_case name if it was written that way).
            pub fn key(&self, camel: &str) -> &'static str {
                for (i, f) in Self::FIELDS.iter().enumerate() {
                    if f.camel == camel {
                        return if self.spelling.is_snake(i) { f.snake } else { f.camel };
                    }
                }
                "?"
            }

            /// Set every member's spelling to `form` (`AsParsed` leaves it unchanged).
            #[allow(unused_assignments)]
            pub fn respell(&mut self, form: $crate::record::fields::Form) {
                use $crate::record::fields::Form;
                match form {
                    Form::AsParsed => {}
                    Form::Camel => self.spelling = Default::default(),
                    Form::Snake => {
                        // Only present members carry a spelling, so that equal
                        // records compare equal whatever form they came from.
                        let mut i = 0usize;
                        $(
                            if self.$field.is_some() && $camel != $snake {
                                self.spelling.set_snake(i);
                            }
                            i += 1;
                        )*
                    }
                }
                $( $crate::record::fields::Respell::respell_opt(&mut self.$field, form); )*
            }
        }

        impl $crate::record::fields::FromJson for $name {
            fn expected() -> String {
                "an object".into()
            }
            fn accepts(v: &$crate::json::Json) -> bool {
                matches!(v, $crate::json::Json::Object(_))
            }

            #[allow(unreachable_patterns, non_camel_case_types, clippy::redundant_pattern, clippy::collapsible_match)]
            fn from_json(v: $crate::json::Json) -> Result<Self, $crate::json::Json> {
                // Field indexes, for the spelling bits.
                enum Idx { $( $field, )* }
                let $crate::json::Json::Object(obj) = v else { return Err(v) };
                let mut out = $name::default();
                for (key, value) in obj {
                    // A match on the names lets the compiler dispatch on length
                    // and bytes instead of comparing against each name in turn.
                    match key.as_str() {
                        $(
                            $camel | $snake => {
                                if out.$field.is_none() && <$ty as $crate::record::fields::FromJson>::accepts(&value) {
                                    match <$ty as $crate::record::fields::FromJson>::from_json(value) {
                                        Ok(t) => {
                                            if $camel != $snake && key == $snake {
                                                out.spelling.set_snake(Idx::$field as usize);
                                            }
                                            out.$field = Some(t);
                                        }
                                        Err(back) => { out.extra.insert(key, back); }
                                    }
                                } else {
                                    out.extra.insert(key, value);
                                }
                            }
                        )*
                        _ => { out.extra.insert(key, value); }
                    }
                }
                Ok(out)
            }
        }

        impl $crate::record::fields::ToJson for $name {
            #[allow(unused_assignments)]
            fn to_json(&self, form: $crate::record::fields::Form) -> $crate::json::Json {
                use $crate::record::fields::Form;
                let mut obj = $crate::json::Object::with_capacity(Self::FIELDS.len() + self.extra.len());
                let mut i = 0usize;
                $(
                    if let Some(v) = &self.$field {
                        let snake = match form {
                            Form::AsParsed => self.spelling.is_snake(i),
                            Form::Camel => false,
                            Form::Snake => true,
                        };
                        obj.insert(if snake { $snake } else { $camel }, $crate::record::fields::ToJson::to_json(v, form));
                    }
                    i += 1;
                )*
                for (k, v) in self.extra.iter() {
                    if !obj.contains_key(k) {
                        obj.insert(k, v.clone());
                    }
                }
                $crate::json::Json::Object(obj)
            }

            #[allow(unused_assignments)]
            fn tally(&self, t: &mut $crate::record::fields::SpellingTally) {
                let mut i = 0usize;
                $(
                    if let Some(v) = &self.$field {
                        if $camel != $snake {
                            if self.spelling.is_snake(i) { t.snake += 1 } else { t.camel += 1 }
                        }
                        $crate::record::fields::ToJson::tally(v, t);
                    }
                    i += 1;
                )*
            }
        }

        impl $crate::record::fields::Inspect for $name {
            #[allow(unused_assignments)]
            fn member_issues(&self, path: &$crate::path::Lazy<'_>, out: &mut Vec<$crate::record::fields::MemberIssue>) {
                use $crate::record::fields::{FromJson, Inspect, MemberIssue};
                let mut i = 0usize;
                $(
                    let used = if self.spelling.is_snake(i) { $snake } else { $camel };
                    if !self.extra.is_empty() {
                        let keys: &[&str] = if $camel == $snake { &[$camel] } else { &[$camel, $snake] };
                        for &key in keys {
                            if let Some(v) = self.extra.get(key) {
                                let p = path.key(key).render();
                                if self.$field.is_some() && key != used {
                                    out.push(MemberIssue::ConflictingSpelling { path: p, used });
                                } else if !<$ty as FromJson>::accepts(v) {
                                    let (path, expected, found) = <$ty as FromJson>::explain(v, &p);
                                    out.push(MemberIssue::WrongType { path, expected, found });
                                }
                            }
                        }
                    }
                    if let Some(v) = &self.$field {
                        Inspect::member_issues(v, &path.key(used), out);
                    }
                    i += 1;
                )*
            }
        }

        impl $crate::record::fields::Respell for $name {
            fn respell(&mut self, form: $crate::record::fields::Form) {
                $name::respell(self, form)
            }
        }
    };
}
pub(crate) use json_object;

/// Rewrite member spellings throughout a value.
pub trait Respell {
    /// Set every typed member below to `form`.
    fn respell(&mut self, _form: Form) {}
    /// Helper for optional members.
    fn respell_opt(v: &mut Option<Self>, form: Form)
    where
        Self: Sized,
    {
        if let Some(x) = v {
            x.respell(form);
        }
    }
}
impl Respell for String {}
impl Respell for bool {}
impl Respell for Json {}
impl<T: Respell> Respell for Vec<T> {
    fn respell(&mut self, form: Form) {
        self.iter_mut().for_each(|x| x.respell(form));
    }
}
impl<T: Respell> Respell for OneOrMany<T> {
    fn respell(&mut self, form: Form) {
        match self {
            OneOrMany::One(t) => t.respell(form),
            OneOrMany::Many(v) => v.iter_mut().for_each(|x| x.respell(form)),
        }
    }
}
