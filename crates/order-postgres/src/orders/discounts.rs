//! An order's discounts as the `discounts` jsonb array of its row: a short
//! list owned by the order and always read with it, so it needs no table,
//! join or statement of its own. Money is integer minor units, percentages
//! integer millionths: nothing in it is a float or a decimal string.

use chrono::{DateTime, Utc};
use order_domain::{
    Currency, Discount, DiscountId, DiscountSnapshot, DiscountValue, Money, Percentage,
};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// One element of the array, as read.
#[derive(Debug, Deserialize)]
struct DiscountJson {
    id: Uuid,
    kind: Kind,
    #[serde(default)]
    fixed_amount: Option<i64>,
    #[serde(default)]
    percent_millionths: Option<u32>,
    code: Option<String>,
    description: Option<String>,
    amount: i64,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Fixed,
    Percentage,
}

/// The array for a row.
pub(crate) fn discounts_to_json(discounts: &[Discount]) -> Value {
    Value::Array(
        discounts
            .iter()
            .map(|d| {
                let mut element = json!({
                    "id": d.id().as_uuid(),
                    "code": d.code(),
                    "description": d.description(),
                    "amount": d.amount().amount(),
                    "created_at": d.created_at(),
                });
                match d.value() {
                    DiscountValue::Fixed(m) => {
                        element["kind"] = json!("fixed");
                        element["fixed_amount"] = json!(m.amount());
                    }
                    DiscountValue::Percentage(p) => {
                        element["kind"] = json!("percentage");
                        element["percent_millionths"] = json!(p.millionths());
                    }
                }
                element
            })
            .collect(),
    )
}

/// The discounts of a stored row; `Err` says what is wrong with it.
pub(crate) fn discounts_from_json(
    value: &Value,
    currency: Currency,
) -> Result<Vec<DiscountSnapshot>, String> {
    let elements: Vec<DiscountJson> =
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    elements
        .into_iter()
        .map(|d| {
            let value = match (d.kind, d.fixed_amount, d.percent_millionths) {
                (Kind::Fixed, Some(amount), None) => {
                    DiscountValue::Fixed(Money::new(amount, currency))
                }
                (Kind::Percentage, None, Some(millionths)) => DiscountValue::Percentage(
                    Percentage::from_millionths(millionths)
                        .ok_or_else(|| format!("discount {}: percentage out of range", d.id))?,
                ),
                _ => return Err(format!("discount {}: kind and value disagree", d.id)),
            };
            Ok(DiscountSnapshot {
                id: DiscountId::from_uuid(d.id),
                value,
                code: d.code,
                description: d.description,
                amount: Money::new(d.amount, currency),
                created_at: d.created_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_with_a_kind_that_disagrees_with_its_value_is_refused() {
        let id = Uuid::nil();
        let bad = json!([{
            "id": id, "kind": "fixed", "percent_millionths": 100_000,
            "code": null, "description": null, "amount": 1, "created_at": "2025-12-30T12:00:00Z"
        }]);
        assert!(discounts_from_json(&bad, Currency::USD).is_err());
        assert!(discounts_from_json(&json!({}), Currency::USD).is_err());
        let good = json!([{
            "id": id, "kind": "percentage", "percent_millionths": 100_000,
            "code": "TEN", "description": null, "amount": 999, "created_at": "2025-12-30T12:00:00Z"
        }]);
        let parsed = discounts_from_json(&good, Currency::USD).unwrap();
        assert_eq!(parsed[0].amount, Money::new(999, Currency::USD));
        assert_eq!(parsed[0].code.as_deref(), Some("TEN"));
    }
}
