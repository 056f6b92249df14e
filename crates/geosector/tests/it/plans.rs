//! Snapshots of what the plans produce for every declared collection: the SQL of its items,
//! feature and tile statements and the values each binds, so a change in a plan shows in review
//! (`cargo insta review`, or read the `.snap` diff). Pure: no database.

use geosector_store::plan::{
    AreaScope, BboxFilter, CollectionPlan, ItemsRequest, OutputCrs, Page, Statement, TileRequest, TileVariant,
};

/// A statement as text: its SQL, one clause a line, then its values.
fn show(statement: &Statement) -> String {
    let sql = statement.sql().split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut rest = sql.as_str();
    // A line per clause keeps diffs readable.
    while let Some(i) = [" FROM ", " WHERE ", " ORDER BY ", " SELECT "]
        .iter()
        .filter_map(|k| rest.get(1..)?.find(k).map(|i| i + 1))
        .min()
    {
        out.push_str(rest[..i].trim_end());
        out.push('\n');
        rest = rest[i..].trim_start();
    }
    out.push_str(rest);
    let kind = if statement.is_reusable() { "reusable" } else { "one-off" };
    out + &format!("\n-- {kind} statement; values: {}\n", without_now(&format!("{:?}", statement.params())))
}

/// Values with the time of the call (a tile of the features in force now binds it) written as
/// `<now>`, so the snapshot stays the same from one run to the next.
fn without_now(values: &str) -> String {
    let Some(start) = values.find("Timestamp(") else { return values.to_owned() };
    let inner = start + "Timestamp(".len();
    let Some(end) = values[inner..].find(')').map(|e| inner + e) else { return values.to_owned() };
    let recent = chrono::DateTime::parse_from_rfc3339(&values[inner..end])
        .is_ok_and(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_minutes().abs() < 10);
    let rest = without_now(&values[end..]);
    if recent {
        format!("{}Timestamp(<now>{rest}", &values[..start])
    } else {
        format!("{}{rest}", &values[..end])
    }
}

#[test]
fn every_collection_plans_the_statements_it_did() {
    let mut all = String::new();
    for decl in geosector::collections() {
        let plan = CollectionPlan::new(decl, &decl.properties(), &[]);
        all.push_str(&format!("==== {} ====\n", decl.id));
        let first_page = ItemsRequest { limit: 10, ..ItemsRequest::default() };
        all.push_str("-- items, first page\n");
        all.push_str(&show(&plan.items(&first_page)));
        if decl.dataset.geometry.is_some() {
            let bbox_page = ItemsRequest {
                bbox: BboxFilter::Envelopes(vec![[105.8, 21.0, 105.9, 21.1]]),
                page: Page::After(100),
                limit: 100,
                output: OutputCrs { rule_srid: Some(905_897), flip: false },
                ..ItemsRequest::default()
            };
            all.push_str("-- items, bbox, next page, EPSG:5897\n");
            all.push_str(&show(&plan.items(&bbox_page)));
        }
        all.push_str("-- one feature\n");
        all.push_str(&show(&plan.item(1, OutputCrs::STORED, None)));
        if decl.access.area.is_some() {
            // A caller scoped to province 01 and commune 26734, seeing personal properties masked.
            let scope = AreaScope::new(vec!["01".into(), "26734".into()]);
            let masked: Vec<&str> = decl.access.personal.iter().map(|(name, _)| *name).collect();
            let view = CollectionPlan::new(decl, &decl.properties(), &masked);
            let scoped = ItemsRequest { limit: 10, scope: Some(&scope), ..ItemsRequest::default() };
            all.push_str("-- items, area scope, personal properties masked\n");
            all.push_str(&show(&view.items(&scoped)));
            all.push_str("-- one feature, area scope\n");
            all.push_str(&show(&view.item(1, OutputCrs::STORED, Some(&scope))));
            if decl.dataset.geometry.is_some() {
                let tile =
                    TileRequest { z: 14, x: 812 << 4, y: 450 << 4, filter: None, scope: Some(&scope), as_of: None };
                all.push_str("-- tile z14 Full, area scope\n");
                all.push_str(&show(&view.tile(&tile, TileVariant::Full).expect("a tile")));
            }
        }
        if plan.is_versioned() {
            // As of an instant: the versions valid then (issue 19).
            let at = "2026-01-02T03:04:05Z".parse::<chrono::DateTime<chrono::Utc>>().ok();
            let scope = AreaScope::new(vec!["01".into()]);
            let scope = decl.access.area.is_some().then_some(&scope);
            let bbox = decl
                .dataset
                .geometry
                .map_or(BboxFilter::None, |_| BboxFilter::Envelopes(vec![[105.8, 21.0, 105.9, 21.1]]));
            let as_of =
                ItemsRequest { bbox, page: Page::After(100), limit: 100, as_of: at, scope, ..ItemsRequest::default() };
            all.push_str("-- items as of an instant, bbox, next page, area scope\n");
            all.push_str(&show(&plan.items(&as_of)));
            all.push_str("-- one feature as of an instant, area scope\n");
            all.push_str(&show(&plan.item_at(1, OutputCrs::STORED, scope, at)));
            all.push_str("-- its versions, area scope\n");
            all.push_str(&show(&plan.versions(1, scope, 0, 10).expect("versions")));
            all.push_str("-- whether it was retired, area scope\n");
            all.push_str(&show(&plan.retirement(1, scope).expect("retirement")));
            if decl.dataset.geometry.is_some() {
                let tile = TileRequest { z: 10, x: 812, y: 450, filter: None, scope, as_of: at };
                all.push_str("-- tile z10 Full as of an instant, area scope\n");
                all.push_str(&show(&plan.tile(&tile, TileVariant::Full).expect("a tile")));
            }
        }
        for z in [10, 14] {
            let tile =
                TileRequest { z, x: 812 << (z - 10), y: 450 << (z - 10), filter: None, scope: None, as_of: None };
            for variant in [TileVariant::Full, TileVariant::IdsOnly] {
                if let Some(statement) = plan.tile(&tile, variant) {
                    all.push_str(&format!("-- tile z{z} {variant:?}\n"));
                    all.push_str(&show(&statement));
                }
            }
        }
    }
    insta::assert_snapshot!("plans", all);
}
