//! The words of a pack: the Italian README, the `LEGGIMI` sheet's key facts and the Frictionless
//! data package, all from the same description of the sheets.

use std::fmt::Write as _;

use disclosure::release::ReleaseLog;
use project::release::Method;
use serde_json::{Value, json};

use super::{Kind, NeedIndicator, Place, Sheet, slug};
use crate::ReportError;
use crate::released::Publication;

const LICENCE: &str = "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)";
const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/deed.it";

/// One district's pack, as its texts describe it.
pub(super) struct Pack<'a> {
    pub project_title: &'a str,
    pub project_name: &'a str,
    pub folder: &'a str,
    pub place: &'a Place<'a>,
    pub publication: &'a Publication,
    pub sheets: &'a [Sheet],
    pub needs: &'a [NeedIndicator<'a>],
    /// `Some(date)` with a registry (the date may be empty), `None` without one.
    pub registry: Option<&'a str>,
}

/// When the data were released: the latest release's timestamp.
pub(super) fn created(p: &Publication) -> String {
    p.releases
        .iter()
        .map(|r| r.log.released_at.as_str())
        .max()
        .unwrap_or("")
        .to_string()
}

fn day(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// How a method protects values, in Italian.
fn method_it(m: Method, base: u32, epsilon: f64) -> String {
    match m {
        Method::Suppress => "soppressione delle celle a rischio (primaria) e di altre celle che \
                             permetterebbero di ricalcolarle (secondaria)"
            .into(),
        Method::Round => format!("arrotondamento casuale non distorto a multipli di {base}"),
        Method::ControlledRound => {
            format!("arrotondamento controllato a multipli di {base} (i totali restano somme)")
        }
        Method::Cellkey => "metodo cell key: a ogni valore è aggiunta una piccola perturbazione \
                            coerente"
            .into(),
        Method::Dp => format!(
            "privacy differenziale: ai conteggi è aggiunto rumore di Laplace discreto \
             (ε totale = {epsilon})"
        ),
    }
}

/// The disclosure rules of a release, one sentence each.
fn rules_it(log: &ReleaseLog) -> Vec<String> {
    let p = &log.policy;
    vec![
        format!(
            "soglia minima: {} unità per cella; le celle con meno contributori sono oscurate{}",
            p.threshold,
            if p.zeros == "publish" {
                " (gli zeri sono pubblicati)"
            } else {
                " (anche gli zeri sono trattati come celle a rischio)"
            }
        ),
        format!(
            "importi: regola di dominanza ({}, {}%) e regola p% (p = {})",
            p.dominance.n, p.dominance.k, p.p
        ),
        format!(
            "metodo predefinito: {}",
            method_it(p.method, p.rounding_base, p.epsilon)
        ),
        format!(
            "stime campionarie: pubblicate solo con almeno {} rispondenti",
            p.min_sample
        ),
        format!(
            "verifica: un attaccante simulato ha controllato {} tabelle ({} celle oscurate, {} \
             ricalcolabili)",
            log.attack.frames, log.attack.suppressed_cells, log.attack.breaches
        ),
    ]
}

/// The outputs of a release the pack shows, with how each was protected.
fn outputs_used<'p>(pack: &'p Pack, log: &'p ReleaseLog) -> Vec<(&'p str, &'p str, String)> {
    let shown = |output: &str| {
        let prefix = format!("tabelle/{}__{output}.csv", log.name);
        let table = pack.sheets.iter().any(|s| s.path == prefix);
        let series = pack
            .sheets
            .first()
            .is_some_and(|s| s.rows.iter().any(|r| r[0] == log.name && r[1] == output));
        table || series
    };
    log.outputs
        .iter()
        .filter(|o| shown(&o.name))
        .map(|o| {
            let what = match &o.indicator {
                Some(i) => format!("indicatore `{i}`"),
                None => "tabella".to_string(),
            };
            (o.name.as_str(), o.method.as_str(), what)
        })
        .collect()
}

impl Pack<'_> {
    fn district(&self) -> String {
        let d = self.place.district;
        format!("{} ({})", d.name, d.code)
    }

    fn zones(&self) -> String {
        self.place
            .zones
            .iter()
            .map(|z| format!("{} {}", z.code, z.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn above(&self) -> String {
        self.place
            .above
            .iter()
            .map(|(level, t)| format!("{} {} ({})", t.code, t.name, level_it(level)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn registry_it(&self) -> String {
        match self.registry {
            Some("") => "registro dei servizi del progetto (nessuna data di verifica)".into(),
            Some(d) => format!(
                "registro dei servizi del progetto, aggiornato al {d} (la verifica o la \
                 rilevazione della capienza più recente)"
            ),
            None => "assente: il progetto non ha un registro dei servizi (`registry.sqlite`), \
                     quindi il pacchetto non contiene né l'offerta né gli estratti del registro"
                .into(),
        }
    }

    /// `Piano di Zona: dati del distretto Centro Storico (Q1)`.
    pub fn title(&self) -> String {
        format!("Piano di Zona: dati del distretto {}", self.district())
    }

    /// The `LEGGIMI` sheet: (item, value).
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut f = vec![
            (
                "Pacchetto".to_string(),
                format!(
                    "Dati per il Piano di Zona del distretto {}",
                    self.district()
                ),
            ),
            ("Fonte".into(), self.project_title.to_string()),
            ("Distretto".into(), self.district()),
            ("Zone".into(), self.zones()),
        ];
        if !self.place.above.is_empty() {
            f.push(("Per confronto".into(), self.above()));
        }
        for r in &self.publication.releases {
            let l = &r.log;
            f.push((
                format!("Rilascio {}", l.name),
                format!(
                    "{}; rilasciato il {} da {}; soglia minima {} unità per cella",
                    l.title,
                    day(&l.released_at),
                    l.released_by,
                    l.policy.threshold
                ),
            ));
        }
        f.push((
            "Celle oscurate".into(),
            "valore vuoto e colonna flag = suppressed (rule dice perché); i valori con flag \
             rounded, perturbed o noisy sono arrotondati o perturbati"
                .into(),
        ));
        f.push(("Registro dei servizi".into(), self.registry_it()));
        f.push(("Licenza".into(), format!("{LICENCE}, {LICENCE_URL}")));
        for s in self.sheets {
            f.push((
                format!("Foglio {}", s.sheet),
                format!("{}: {}", s.path, s.description),
            ));
        }
        f
    }

    /// `datapackage.json`: a Frictionless tabular data package (v1).
    pub fn datapackage(&self) -> Result<Vec<u8>, ReportError> {
        let resources: Vec<Value> = self
            .sheets
            .iter()
            .map(|s| {
                let fields: Vec<Value> = s
                    .fields
                    .iter()
                    .map(|f| {
                        json!({
                            "name": f.name,
                            "type": f.kind.frictionless(),
                            "title": f.title,
                            "description": f.description,
                        })
                    })
                    .collect();
                let mut schema = json!({ "fields": fields, "missingValues": [""] });
                if !s.key.is_empty() {
                    schema["primaryKey"] = json!(s.key);
                }
                json!({
                    "name": resource_name(&s.path),
                    "path": s.path,
                    "profile": "tabular-data-resource",
                    "title": s.title,
                    "description": s.description,
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "dialect": { "delimiter": ",", "lineTerminator": "\n", "header": true },
                    "schema": schema,
                })
            })
            .collect();
        let mut sources: Vec<Value> = self
            .publication
            .releases
            .iter()
            .map(|r| {
                json!({
                    "title": format!(
                        "Rilascio `{}`: {} ({}, {})",
                        r.log.name, r.log.title, day(&r.log.released_at), r.log.released_by
                    ),
                    "path": format!("releases/{}/release.json", r.log.name),
                })
            })
            .collect();
        if self.registry.is_some() {
            sources.push(json!({ "title": self.registry_it(), "path": super::REGISTRY_FILE }));
        }
        let package = json!({
            "profile": "tabular-data-package",
            "name": resource_name(&format!("{}-{}", self.project_name, self.folder)),
            "title": self.title(),
            "description": format!(
                "Indicatori, tabelle, bisogni e offerta ed estratti del registro dei servizi per \
                 il distretto {} (zone: {}), dai rilasci pubblici di «{}», controllati per la \
                 riservatezza statistica.",
                self.district(), self.zones(), self.project_title
            ),
            "keywords": ["piano di zona", "welfare", "distretto", self.place.district.name.as_str()],
            "created": created(self.publication),
            "licenses": [{
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "Creative Commons Attribution 4.0",
            }],
            "sources": sources,
            "resources": resources,
        });
        let mut bytes =
            serde_json::to_vec_pretty(&package).map_err(|e| ReportError::Input(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// `README.md`, in Italian.
    pub fn readme(&self) -> String {
        let mut r = String::new();
        let d = self.place.district;
        let _ = writeln!(r, "# {}\n", self.title());
        let _ = writeln!(
            r,
            "Questo pacchetto raccoglie, per il distretto **{}** (codice `{}`), i dati \
             pubblicati da «{}»: gli indicatori, le tabelle, il confronto tra bisogni e offerta \
             di servizi e gli estratti del registro dei servizi. Serve alla programmazione di \
             zona (Piano di Zona). Ogni numero viene da un rilascio pubblico che ha superato il \
             controllo della riservatezza statistica del laboratorio dati; il registro dei \
             servizi descrive organizzazioni, servizi e sedi, non persone.\n",
            d.name, d.code, self.project_title
        );
        let _ = writeln!(
            r,
            "Gli stessi dati sono in formato CSV (un file per tabella), nel foglio di calcolo \
             `dati.xlsx` (un foglio per file, più il foglio `LEGGIMI`) e descritti in \
             `datapackage.json` ([Frictionless Data Package](https://specs.frictionlessdata.io/data-package/)).\n"
        );
        let _ = writeln!(r, "## Territorio\n");
        let _ = writeln!(r, "- Distretto: {} {}", d.code, d.name);
        let _ = writeln!(r, "- Zone: {}", self.zones());
        if !self.place.above.is_empty() {
            let _ = writeln!(r, "- Per confronto: {}", self.above());
        }
        let _ = writeln!(r);
        let _ = writeln!(r, "## Da dove vengono i dati\n");
        for rel in &self.publication.releases {
            let l = &rel.log;
            let _ = writeln!(r, "### Rilascio `{}`: {}\n", l.name, l.title);
            let _ = writeln!(
                r,
                "- rilasciato il {} da `{}` (datalab {})",
                day(&l.released_at),
                l.released_by,
                l.datalab_version
            );
            if let Some(p) = &l.purpose {
                let _ = writeln!(r, "- scopo: {p}");
            }
            if !l.inputs.is_empty() {
                let inputs: Vec<String> = l
                    .inputs
                    .iter()
                    .map(|(t, s)| format!("`{t}` ({})", s.get(..12).unwrap_or(s)))
                    .collect();
                let _ = writeln!(
                    r,
                    "- istantanee di input (tabella e istantanea del magazzino dati): {}",
                    inputs.join(", ")
                );
            }
            let _ = writeln!(r, "- regole di riservatezza:");
            for rule in rules_it(l) {
                let _ = writeln!(r, "  - {rule}");
            }
            let used = outputs_used(self, l);
            if !used.is_empty() {
                let _ = writeln!(r, "- output usati in questo pacchetto:");
                for (name, method, what) in used {
                    let _ = writeln!(r, "  - `{name}`: {what}, protezione `{method}`");
                }
            }
            let _ = writeln!(r);
        }
        let _ = writeln!(r, "## Come leggere `flag` e `rule`\n");
        let _ = writeln!(
            r,
            "Una cella oscurata ha il valore vuoto (anche numeratore e denominatore) e `flag` = \
             `suppressed`; il vero valore non esce mai dal laboratorio, e nessun valore di \
             questo pacchetto è ricalcolato da un valore oscurato.\n"
        );
        let _ = writeln!(r, "| `flag` | significato |\n| --- | --- |");
        for (f, m) in [
            ("(vuoto)", "valore pubblicato così com'è"),
            ("`suppressed`", "cella oscurata: il valore è vuoto"),
            (
                "`rounded`",
                "valore arrotondato (a multipli della base indicata in `rule`)",
            ),
            (
                "`perturbed`",
                "valore con una piccola perturbazione (metodo cell key)",
            ),
            ("`noisy`", "valore con rumore (privacy differenziale)"),
        ] {
            let _ = writeln!(r, "| {f} | {m} |");
        }
        let _ = writeln!(r, "\n| `rule` | perché |\n| --- | --- |");
        for (f, m) in [
            (
                "`frequency`",
                "la cella ha meno contributori della soglia minima (oscuramento primario)",
            ),
            (
                "`secondary`",
                "oscurata per impedire di ricalcolare un'altra cella oscurata dai totali \
                 (oscuramento secondario)",
            ),
            (
                "`dominance`",
                "un importo dominato da pochi contributori (regola di dominanza)",
            ),
            (
                "`p-percent`",
                "un importo che permetterebbe di stimare troppo bene il contributo del maggiore \
                 (regola p%)",
            ),
            (
                "`group`",
                "una cella che rivelerebbe una caratteristica di tutto un gruppo",
            ),
            (
                "`sample-size`",
                "una stima campionaria con troppo pochi rispondenti",
            ),
            (
                "`random rounding to base N`, `controlled rounding to base N`, `cell key (...)`, \
                 `differential privacy (...)`",
                "il metodo che ha arrotondato o perturbato il valore",
            ),
        ] {
            let _ = writeln!(r, "| {f} | {m} |");
        }
        let _ = writeln!(r);
        let _ = writeln!(r, "## Bisogni e offerta\n");
        match self.registry {
            None => {
                let _ = writeln!(
                    r,
                    "Il progetto non ha un registro dei servizi (`registry.sqlite`): il pacchetto \
                     non contiene `bisogni_offerta.csv`, `servizi.csv`, `organizzazioni.csv` e \
                     `sedi.csv`. Si carica con `datalab registry import`.\n"
                );
            }
            Some(_) => {
                let _ = writeln!(
                    r,
                    "`bisogni_offerta.csv` mette a confronto, per ogni indicatore di bisogno \
                     rilasciato, le persone con bisogno (il numeratore rilasciato, per il periodo \
                     più recente) con l'offerta del registro dei servizi, per il distretto e per \
                     ciascuna zona:\n"
                );
                for line in [
                    "l'offerta sono i servizi attivi del registro, per sede, che rispondono ad \
                     almeno uno dei rischi sociali indicati in `supply_risks` e si rivolgono ad \
                     almeno uno dei destinatari in `supply_target_groups` (i servizi per tutti \
                     contano sempre), con sede nel territorio;",
                    "`places` somma l'ultima capienza registrata di ogni sede; `operators` \
                     somma gli operatori di ogni servizio attribuiti alle sue sedi (in \
                     proporzione ai posti se ogni sede ha i posti, in parti uguali \
                     altrimenti);",
                    "`places_per_1000` = `places` / `in_need` × 1.000, `operators_per_1000` = \
                     `operators` / `in_need` × 1.000, `coverage` = `places` / `in_need`;",
                    "`required` = `standard` × `in_need` (lo standard è quello dichiarato \
                     dall'indicatore), `gap` = `required` − `places` se positivo, altrimenti 0;",
                    "se la cella del bisogno è oscurata (`flag` = `suppressed`) o il numeratore \
                     non è pubblicato, `in_need` e tutte le colonne calcolate da esso restano \
                     vuote;",
                    "i valori calcolati sono arrotondati a 2 decimali (4 per `coverage`); il \
                     bisogno si riferisce al periodo indicato, l'offerta alla data del \
                     registro.",
                ] {
                    let _ = writeln!(r, "- {line}");
                }
                let _ = writeln!(r);
                if !self.needs.is_empty() {
                    let _ = writeln!(r, "Indicatori di bisogno:\n");
                    for n in self.needs {
                        let risks: Vec<&str> =
                            n.filter.risks.iter().map(|x| x.label_it()).collect();
                        let groups: Vec<&str> = n
                            .filter
                            .target_groups
                            .iter()
                            .map(|x| x.label_it())
                            .collect();
                        let (standard, unit) = n.indicator.need.as_ref().map_or_else(
                            || (String::new(), ""),
                            |x| (italian(x.standard), x.supply_unit.get("it")),
                        );
                        let _ = writeln!(
                            r,
                            "- `{}` ({}), periodo {}: standard {standard} {unit} per persona con \
                             bisogno; offerta: i servizi per {}{}",
                            n.indicator.id,
                            n.indicator.name.get("it"),
                            n.period,
                            risks.join(" o ").to_lowercase(),
                            if groups.is_empty() {
                                String::new()
                            } else {
                                format!(" (destinatari: {})", groups.join(", ").to_lowercase())
                            }
                        );
                    }
                    let _ = writeln!(r);
                }
            }
        }
        let _ = writeln!(r, "## Registro dei servizi\n");
        let _ = writeln!(r, "Fonte: {}.\n", self.registry_it());
        if self.registry.is_some() {
            let _ = writeln!(
                r,
                "Gli estratti contengono i servizi attivi con sede nelle zone del distretto, le \
                 organizzazioni che li gestiscono e le sedi: nomi, forma giuridica, settore, \
                 indirizzo della sede, posti e operatori. Non contengono mai recapiti di \
                 persone (referenti, telefoni, indirizzi e-mail) né codici fiscali.\n"
            );
        }
        let _ = writeln!(r, "## File\n");
        for s in self.sheets {
            let _ = writeln!(r, "### `{}` (foglio `{}`)\n", s.path, s.sheet);
            let _ = writeln!(r, "{} {} righe.\n", s.description, s.rows.len());
            let _ = writeln!(r, "| colonna | tipo | descrizione |\n| --- | --- | --- |");
            for f in &s.fields {
                let kind = match f.kind {
                    Kind::Text => "testo",
                    Kind::Integer => "intero",
                    Kind::Number => "numero",
                    Kind::Share => "quota",
                    Kind::Degrees => "gradi",
                };
                let _ = writeln!(
                    r,
                    "| `{}` | {kind} | {}: {} |",
                    f.name,
                    f.title,
                    f.description.replace('|', "\\|")
                );
            }
            let _ = writeln!(r);
        }
        let _ = writeln!(
            r,
            "I numeri nei CSV usano il punto come separatore decimale; le celle vuote sono \
             valori mancanti o oscurati.\n"
        );
        let _ = writeln!(r, "## Licenza\n");
        let _ = writeln!(
            r,
            "I dati sono pubblicati con licenza {LICENCE} ({LICENCE_URL}): si possono \
             riutilizzare citando la fonte, «{}».",
            self.project_title
        );
        r
    }
}

/// The Italian name of a territory level of the usual hierarchy (others as they are).
fn level_it(level: &str) -> &str {
    match level {
        "region" => "regione",
        "province" => "provincia",
        "municipality" => "comune",
        "district" => "distretto",
        "zone" => "zona",
        other => other,
    }
}

/// A number with the Italian decimal comma: `0,2`.
fn italian(v: f64) -> String {
    super::num(v).replace('.', ",")
}

/// A Frictionless name: lower case, `[a-z0-9._-]`.
fn resource_name(path: &str) -> String {
    let stem = path.strip_suffix(".csv").unwrap_or(path);
    let s = slug(stem);
    if s.is_empty() { "data".into() } else { s }
}
