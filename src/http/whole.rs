//! Integer fields of JSON bodies read as JSON Schema reads them: `5.0` is the integer 5, `5.5`
//! is no integer. serde refuses `5.0` for an integer type; generated clients in languages with
//! one number type send it.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// An integer given as a JSON number without a fractional part.
struct Whole(i64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WholeVisitor;

        impl Visitor<'_> for WholeVisitor {
            type Value = Whole;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                Ok(Whole(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                i64::try_from(v).map(Whole).map_err(|_| E::custom("integer out of range"))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                // Within ±2^53 every integer is exact in an f64.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if v.fract() == 0.0 && v.abs() <= EXACT {
                    // The value is integral and within range: the cast is exact.
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Whole(v as i64))
                } else {
                    Err(E::invalid_type(de::Unexpected::Float(v), &self))
                }
            }
        }

        deserializer.deserialize_any(WholeVisitor)
    }
}

fn narrow<T: TryFrom<i64>, E: de::Error>(value: i64) -> Result<T, E> {
    T::try_from(value).map_err(|_| E::custom(format!("{value} is out of range")))
}

/// For `Option<iN>` fields (with `#[serde(default)]`).
pub fn option<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Whole>::deserialize(d)?.map(|Whole(v)| narrow(v)).transpose()
}

/// For `Option<Option<iN>>` fields of a patch (with `#[serde(default)]`): absent leaves the
/// value, `null` clears it.
pub fn some_option<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    option(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(default, deserialize_with = "super::option")]
        rating: Option<i32>,
        #[serde(default, deserialize_with = "super::some_option")]
        cleared: Option<Option<i32>>,
    }

    fn read(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_refused() {
        assert_eq!(read(r#"{"rating": 5.0}"#).unwrap().rating, Some(5));
        assert_eq!(read(r#"{"rating": 5}"#).unwrap().rating, Some(5));
        assert_eq!(read(r#"{"rating": -2.0}"#).unwrap().rating, Some(-2));
        assert!(read(r#"{"rating": 5.5}"#).is_err());
        assert!(read(r#"{"rating": "5"}"#).is_err());
        assert!(read(r#"{"rating": 1e12}"#).is_err(), "out of range for i32");
        assert_eq!(read("{}").unwrap().rating, None);
        assert_eq!(read(r#"{"rating": null}"#).unwrap().rating, None);
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        assert_eq!(read("{}").unwrap().cleared, None);
        assert_eq!(read(r#"{"cleared": null}"#).unwrap().cleared, Some(None));
        assert_eq!(read(r#"{"cleared": 3.0}"#).unwrap().cleared, Some(Some(3)));
    }
}
