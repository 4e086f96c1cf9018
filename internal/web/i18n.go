package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Interface languages: the network's working languages. English is the fallback.
var uiLanguages = []language.Tag{language.English, language.French, language.Spanish}

var uiMatcher = language.NewMatcher(uiLanguages)

// locale is the interface language of one request: its message printer, date and
// name formatting, and whether the reader chose it with ?hl= (then links keep it).
type locale struct {
	Tag      language.Tag
	Code     string // "en", "fr" or "es"
	Explicit bool   // chosen with ?hl=, so links and forms carry it
	p        *message.Printer
	regions  display.Namer
	langs    display.Namer
}

// chooseLocale picks the interface language: ?hl= first, then Accept-Language, then English.
func chooseLocale(r *http.Request) *locale {
	if hl := strings.TrimSpace(r.URL.Query().Get("hl")); hl != "" {
		if t, err := language.Parse(hl); err == nil {
			if _, i, conf := uiMatcher.Match(t); conf >= language.High {
				return newLocale(uiLanguages[i], true)
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return newLocale(language.English, false)
	}
	_, i, conf := uiMatcher.Match(tags...)
	if conf == language.No {
		i = 0
	}
	return newLocale(uiLanguages[i], false)
}

func newLocale(t language.Tag, explicit bool) *locale {
	base, _ := t.Base()
	return &locale{
		Tag: t, Code: base.String(), Explicit: explicit,
		p:       message.NewPrinter(t, message.Catalog(uiCatalog())),
		regions: display.Regions(t),
		langs:   display.Languages(t),
	}
}

// T translates a message (its key is the English text, a fmt format) with args.
func (l *locale) T(key string, args ...any) string { return l.p.Sprintf(key, args...) }

// Num formats a whole number with the language's digit grouping.
func (l *locale) Num(n int) string { return l.p.Sprintf("%d", n) }

// Date formats t as a calendar day: "5 March 2026", "1er mars 2026", "5 de marzo de 2026";
// the day is t's in UTC.
func (l *locale) Date(t time.Time) string { return l.DateIn(t, time.UTC) }

// DateIn formats t as a calendar day in loc: an item's day is its member's, as on the
// member's own site (midnight in Zurich is the evening before in UTC).
func (l *locale) DateIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(loc)
	return l.p.Sprintf("%[1]d %[2]s %[3]s", t.Day(), l.month(t.Month()), strconv.Itoa(t.Year()))
}

// Month formats t as a month only: "May 2017", "mai 2017", "mayo de 2017".
func (l *locale) Month(t time.Time) string {
	t = t.UTC()
	return l.p.Sprintf("%[1]s %[2]s", l.month(t.Month()), strconv.Itoa(t.Year()))
}

// DateTime formats t as a day and a UTC time of day.
func (l *locale) DateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return l.Date(t) + " " + t.UTC().Format("15:04") + " UTC"
}

func (l *locale) month(m time.Month) string { return l.p.Sprintf(m.String()) }

// Country names an ISO 3166 country code in the interface language ("CH" -> "Suisse").
func (l *locale) Country(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if n := l.regions.Name(r); n != "" {
		return n
	}
	return code
}

// Language names a BCP 47 tag in the interface language ("he" -> "hébreu").
func (l *locale) Language(code string) string {
	t, err := language.Parse(code)
	if err != nil {
		return code
	}
	if n := l.langs.Name(t); n != "" {
		return n
	}
	return code
}

// Ago says how long ago (or how far ahead) t is from now, in words.
func (l *locale) Ago(now, t time.Time) string {
	if t.IsZero() {
		return l.T("never")
	}
	d := now.Sub(t)
	if d < 0 {
		d = -d
		switch {
		case d < time.Minute:
			return l.T("in less than a minute")
		case d < time.Hour:
			return l.T("in %d minutes", int(d/time.Minute))
		case d < 48*time.Hour:
			return l.T("in %d hours", int(d/time.Hour))
		}
		return l.T("in %d days", int(d/(24*time.Hour)))
	}
	switch {
	case d < time.Minute:
		return l.T("less than a minute ago")
	case d < time.Hour:
		return l.T("%d minutes ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return l.T("%d hours ago", int(d/time.Hour))
	}
	return l.T("%d days ago", int(d/(24*time.Hour)))
}

// URL returns path with the reader's ?hl= added when it was chosen explicitly, so that
// the choice survives navigation without cookies.
func (l *locale) URL(path string) string {
	if !l.Explicit {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "hl=" + l.Code
}

// keep adds hl to v when the language was chosen explicitly.
func (l *locale) keep(v url.Values) url.Values {
	if l.Explicit {
		v.Set("hl", l.Code)
	}
	return v
}

// langLink is one entry of the language switcher.
type langLink struct {
	Code, Name, URL string
	Current         bool
}

// switcher links the current page in every interface language, keeping its query.
func (l *locale) switcher(r *http.Request) []langLink {
	out := make([]langLink, 0, len(uiLanguages))
	for _, t := range uiLanguages {
		base, _ := t.Base()
		v := r.URL.Query()
		v.Set("hl", base.String())
		out = append(out, langLink{Code: base.String(), Name: display.Self.Name(t), URL: r.URL.Path + "?" + v.Encode(), Current: base.String() == l.Code})
	}
	return out
}

// uiCatalog is built once: the interface messages are data compiled into the program,
// not configuration.
var uiCatalog = sync.OnceValue(buildCatalog)

// pl is a message with English-style plural forms selected on argument 1; French
// rules put 0 and 1 in "one", which plural.Selectf applies from CLDR.
func pl(one, other string) catalog.Message {
	return plural.Selectf(1, "%d", plural.One, one, plural.Other, other)
}

// tr is one interface message in each language; a nil translation falls back to English.
type tr struct {
	key        string
	en, fr, es any // string or catalog.Message
}

func buildCatalog() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	set := func(t language.Tag, key string, m any) {
		var err error
		switch m := m.(type) {
		case nil:
			return
		case string:
			err = b.SetString(t, key, m)
		case catalog.Message:
			err = b.Set(t, key, m)
		}
		if err != nil {
			panic("web: interface message " + key + ": " + err.Error()) // a programming error, caught by tests
		}
	}
	for _, m := range messages {
		en := m.en
		if en == nil {
			en = m.key
		}
		set(language.English, m.key, en)
		set(language.French, m.key, m.fr)
		set(language.Spanish, m.key, m.es)
	}
	return b
}

var messages = []tr{
	// Layout.
	{key: "Skip to content", fr: "Aller au contenu", es: "Ir al contenido"},
	{key: "News", fr: "Actualités", es: "Noticias"},
	{key: "Sources", fr: "Sources", es: "Fuentes"},
	{key: "Main", fr: "Principal", es: "Principal"},
	{key: "Interface language", fr: "Langue de l’interface", es: "Idioma de la interfaz"},
	{key: "Health alerts", fr: "Alertes de santé des sources", es: "Alertas de estado de las fuentes"},

	// River.
	{key: "Filter the news", fr: "Filtrer les actualités", es: "Filtrar las noticias"},
	{key: "Member", fr: "Membre", es: "Miembro"},
	{key: "All members", fr: "Tous les membres", es: "Todos los miembros"},
	{key: "Country", fr: "Pays", es: "País"},
	{key: "All countries", fr: "Tous les pays", es: "Todos los países"},
	{key: "Region", fr: "Région", es: "Región"},
	{key: "All regions", fr: "Toutes les régions", es: "Todas las regiones"},
	{key: "Language", fr: "Langue", es: "Idioma"},
	{key: "All languages", fr: "Toutes les langues", es: "Todos los idiomas"},
	{key: "Search", fr: "Rechercher", es: "Buscar"},
	{key: "Filter", fr: "Filtrer", es: "Filtrar"},
	{key: "Clear filters", fr: "Effacer les filtres", es: "Quitar los filtros"},
	{key: "Subscribe to this selection:", fr: "S’abonner à cette sélection :", es: "Suscribirse a esta selección:"},
	{key: "Subscribe:", fr: "S’abonner :", es: "Suscribirse:"},
	{key: "%s, this selection", fr: "%s, cette sélection", es: "%s, esta selección"},
	{key: "No news matches these filters.", fr: "Aucune actualité ne correspond à ces filtres.", es: "Ninguna noticia coincide con estos filtros."},
	{key: "No news yet: the sources have not been polled, or have published nothing.", fr: "Pas encore d’actualités : les sources n’ont pas encore été collectées ou n’ont rien publié.", es: "Aún no hay noticias: las fuentes no se han consultado todavía o no han publicado nada."},
	{key: "No older news.", fr: "Pas d’actualités plus anciennes.", es: "No hay noticias anteriores."},
	{key: "No news from this member yet.", fr: "Pas encore d’actualités de ce membre.", es: "Aún no hay noticias de este miembro."},
	{key: "Older news", fr: "Actualités plus anciennes", es: "Noticias anteriores"},
	{key: "Newest news", fr: "Actualités les plus récentes", es: "Noticias más recientes"},
	{key: "Pages", fr: "Pages", es: "Páginas"},
	{key: "Also published by %s", fr: "Également publié par %s", es: "También publicado por %s"},
	{key: "first seen %s", fr: "vu pour la première fois le %s", es: "visto por primera vez el %s"},
	{key: "Published by", fr: "Publié par", es: "Publicado por"},
	{key: "%d items shown", en: pl("%d item shown", "%d items shown"), fr: pl("%d actualité affichée", "%d actualités affichées"), es: pl("%d noticia mostrada", "%d noticias mostradas")},

	// Dates. The day pattern has a French special case: "1er mars".
	{key: "%[1]d %[2]s %[3]s", fr: plural.Selectf(1, "%d", "=1", "1er %[2]s %[3]s", plural.Other, "%[1]d %[2]s %[3]s"), es: "%[1]d de %[2]s de %[3]s"},
	{key: "%[1]s %[2]s", fr: "%[1]s %[2]s", es: "%[1]s de %[2]s"},
	{key: "January", fr: "janvier", es: "enero"},
	{key: "February", fr: "février", es: "febrero"},
	{key: "March", fr: "mars", es: "marzo"},
	{key: "April", fr: "avril", es: "abril"},
	{key: "May", fr: "mai", es: "mayo"},
	{key: "June", fr: "juin", es: "junio"},
	{key: "July", fr: "juillet", es: "julio"},
	{key: "August", fr: "août", es: "agosto"},
	{key: "September", fr: "septembre", es: "septiembre"},
	{key: "October", fr: "octobre", es: "octubre"},
	{key: "November", fr: "novembre", es: "noviembre"},
	{key: "December", fr: "décembre", es: "diciembre"},
	{key: "never", fr: "jamais", es: "nunca"},
	{key: "less than a minute ago", fr: "il y a moins d’une minute", es: "hace menos de un minuto"},
	{key: "%d minutes ago", en: pl("%d minute ago", "%d minutes ago"), fr: pl("il y a %d minute", "il y a %d minutes"), es: pl("hace %d minuto", "hace %d minutos")},
	{key: "%d hours ago", en: pl("%d hour ago", "%d hours ago"), fr: pl("il y a %d heure", "il y a %d heures"), es: pl("hace %d hora", "hace %d horas")},
	{key: "%d days ago", en: pl("%d day ago", "%d days ago"), fr: pl("il y a %d jour", "il y a %d jours"), es: pl("hace %d día", "hace %d días")},
	{key: "in less than a minute", fr: "dans moins d’une minute", es: "en menos de un minuto"},
	{key: "in %d minutes", en: pl("in %d minute", "in %d minutes"), fr: pl("dans %d minute", "dans %d minutes"), es: pl("en %d minuto", "en %d minutos")},
	{key: "in %d hours", en: pl("in %d hour", "in %d hours"), fr: pl("dans %d heure", "dans %d heures"), es: pl("en %d hora", "en %d horas")},
	{key: "in %d days", en: pl("in %d day", "in %d days"), fr: pl("dans %d jour", "dans %d jours"), es: pl("en %d día", "en %d días")},

	// Dashboard.
	{key: "Source health", fr: "Santé des sources", es: "Estado de las fuentes"},
	{key: "%d sources", en: pl("%d source", "%d sources"), fr: pl("%d source", "%d sources"), es: pl("%d fuente", "%d fuentes")},
	{key: "%[1]s: %[2]d", fr: "%[1]s : %[2]d", es: "%[1]s: %[2]d"},
	{key: "Problems only", fr: "Problèmes seulement", es: "Solo problemas"},
	{key: "All sources", fr: "Toutes les sources", es: "Todas las fuentes"},
	{key: "Alerts feed (Atom)", fr: "Flux des alertes (Atom)", es: "Canal de alertas (Atom)"},
	{key: "Sort by %s", fr: "Trier par %s", es: "Ordenar por %s"},
	{key: "Source", fr: "Source", es: "Fuente"},
	{key: "Health", fr: "Santé", es: "Estado"},
	{key: "Last success", fr: "Dernier succès", es: "Último éxito"},
	{key: "Last poll", fr: "Dernière collecte", es: "Última consulta"},
	{key: "HTTP", fr: "HTTP", es: "HTTP"},
	{key: "Items", fr: "Articles", es: "Noticias"},
	{key: "Items per week, last 26 weeks", fr: "Articles par semaine, 26 dernières semaines", es: "Noticias por semana, últimas 26 semanas"},
	{key: "%d items in the last 26 weeks", en: pl("%d item in the last 26 weeks", "%d items in the last 26 weeks"), fr: pl("%d article ces 26 dernières semaines", "%d articles ces 26 dernières semaines"), es: pl("%d noticia en las últimas 26 semanas", "%d noticias en las últimas 26 semanas")},
	{key: "Last new item", fr: "Dernier nouvel article", es: "Última noticia nueva"},
	{key: "Next poll", fr: "Prochaine collecte", es: "Próxima consulta"},
	{key: "Last error", fr: "Dernière erreur", es: "Último error"},
	{key: "No sources match.", fr: "Aucune source ne correspond.", es: "Ninguna fuente coincide."},
	{key: "Moved permanently to %s: update feeds.yaml", fr: "Déplacée définitivement vers %s : mettez à jour feeds.yaml", es: "Trasladada definitivamente a %s: actualice feeds.yaml"},
	{key: "feed found: %s", fr: "flux trouvé : %s", es: "canal encontrado: %s"},
	{key: "usually a new item every %s", fr: "d’habitude un nouvel article tous les %s", es: "normalmente una noticia nueva cada %s"},
	{key: "usually a new item every %d hours", en: pl("usually a new item every hour", "usually a new item every %d hours"),
		fr: pl("d’habitude un nouvel article toutes les heures", "d’habitude un nouvel article toutes les %d heures"),
		es: pl("normalmente una noticia nueva cada hora", "normalmente una noticia nueva cada %d horas")},
	{key: "Warning:", fr: "Avertissement :", es: "Advertencia:"},
	{key: "%d days", en: pl("%d day", "%d days"), fr: pl("%d jour", "%d jours"), es: pl("%d día", "%d días")},
	{key: "ok", fr: "en ordre", es: "correcta"},
	{key: "stale", fr: "inactive", es: "inactiva"},
	{key: "failing", fr: "en échec", es: "con fallos"},
	{key: "disabled", fr: "désactivée", es: "desactivada"},
	{key: "unknown", fr: "pas encore collectée", es: "aún sin consultar"},
	{key: "Recent polls (last %d)", fr: "Collectes récentes (les %d dernières)", es: "Consultas recientes (las %d últimas)"},
	{key: "Time", fr: "Heure", es: "Hora"},
	{key: "Duration", fr: "Durée", es: "Duración"},
	{key: "New", fr: "Nouveaux", es: "Nuevas"},
	{key: "Error", fr: "Erreur", es: "Error"},
	{key: "Not polled yet.", fr: "Pas encore collectée.", es: "Aún sin consultar."},
	{key: "Recent news", fr: "Actualités récentes", es: "Noticias recientes"},
	{key: "Homepage", fr: "Site web", es: "Sitio web"},
	{key: "Error kinds", fr: "Types d’erreur", es: "Tipos de error"},

	// Share page.
	{key: "Share and embed", fr: "Partager et intégrer", es: "Compartir e integrar"},
	{key: "Every feed and list below takes the same filters as the news page. Choose a selection, then copy a snippet.",
		fr: "Chaque flux et chaque liste ci-dessous acceptent les mêmes filtres que la page des actualités. Choisissez une sélection, puis copiez un extrait.",
		es: "Cada canal y cada lista de abajo admiten los mismos filtros que la página de noticias. Elija una selección y copie un fragmento."},
	{key: "Show snippets", fr: "Afficher les extraits", es: "Mostrar los fragmentos"},
	{key: "Subscribe in a feed reader", fr: "S’abonner dans un lecteur de flux", es: "Suscribirse en un lector de canales"},
	{key: "All sources as OPML (to import into a reader):", fr: "Toutes les sources en OPML (à importer dans un lecteur) :", es: "Todas las fuentes en OPML (para importar en un lector):"},
	{key: "Embed with an iframe", fr: "Intégrer avec une iframe", es: "Integrar con un iframe"},
	{key: "Paste this where the list should appear. The list has no script and opens links in a new tab.",
		fr: "Collez ceci là où la liste doit apparaître. La liste n’a pas de script et ouvre les liens dans un nouvel onglet.",
		es: "Pegue esto donde deba aparecer la lista. La lista no tiene script y abre los enlaces en una pestaña nueva."},
	{key: "iframe snippet", fr: "Extrait iframe", es: "Fragmento iframe"},
	{key: "Embed with a script tag", fr: "Intégrer avec une balise script", es: "Integrar con una etiqueta script"},
	{key: "For sites that prefer a script: it puts the same iframe where the tag is.",
		fr: "Pour les sites qui préfèrent un script : il place la même iframe à l’endroit de la balise.",
		es: "Para los sitios que prefieren un script: coloca el mismo iframe donde está la etiqueta."},
	{key: "script snippet", fr: "Extrait script", es: "Fragmento script"},
	{key: "Preview", fr: "Aperçu", es: "Vista previa"},
	{key: "Preview of the embedded list", fr: "Aperçu de la liste intégrée", es: "Vista previa de la lista integrada"},

	// Error pages (the detail stays in English, as the feeds' plain-text errors give it).
	{key: "Page not found", fr: "Page introuvable", es: "Página no encontrada"},
	{key: "This address is not valid", fr: "Cette adresse n’est pas valide", es: "Esta dirección no es válida"},
	{key: "Temporarily unavailable", fr: "Temporairement indisponible", es: "No disponible temporalmente"},
	{key: "The news store cannot be reached just now: this is the page as last shown, and it may be out of date.",
		fr: "Le stockage des actualités est injoignable pour le moment : voici la page telle qu’elle a été affichée la dernière fois, peut-être dépassée.",
		es: "El almacén de noticias no responde en este momento: esta es la página tal como se mostró la última vez, y puede estar desactualizada."},
	{key: "Something went wrong", fr: "Une erreur s’est produite", es: "Se ha producido un error"},
	{key: "Back to the news", fr: "Retour aux actualités", es: "Volver a las noticias"},

	// Embedded list (on members' own sites, in the language their hl= asks for).
	{key: "No news yet.", fr: "Pas encore d’actualités.", es: "Aún no hay noticias."},
	{key: "More news from %s", fr: "Plus d’actualités sur %s", es: "Más noticias en %s"},

	// Error kinds (the detail stays in the poller's words).
	{key: "kind:dns", en: "Name lookup (DNS) failed", fr: "Échec de la résolution du nom (DNS)", es: "Falló la resolución del nombre (DNS)"},
	{key: "kind:timeout", en: "Timed out", fr: "Délai dépassé", es: "Tiempo de espera agotado"},
	{key: "kind:http_404", en: "Page not found (HTTP 404)", fr: "Page introuvable (HTTP 404)", es: "Página no encontrada (HTTP 404)"},
	{key: "kind:http_410", en: "Page gone for good (HTTP 410)", fr: "Page supprimée (HTTP 410)", es: "Página eliminada (HTTP 410)"},
	{key: "kind:http_429", en: "Too many requests (HTTP 429)", fr: "Trop de requêtes (HTTP 429)", es: "Demasiadas solicitudes (HTTP 429)"},
	{key: "kind:http_4xx", en: "Request refused (HTTP 4xx)", fr: "Requête refusée (HTTP 4xx)", es: "Solicitud rechazada (HTTP 4xx)"},
	{key: "kind:http_5xx", en: "Server error (HTTP 5xx)", fr: "Erreur du serveur (HTTP 5xx)", es: "Error del servidor (HTTP 5xx)"},
	{key: "kind:no_items", en: "No items found", fr: "Aucun article trouvé", es: "No se encontraron noticias"},
	{key: "kind:blocked_address", en: "Private address refused", fr: "Adresse privée refusée", es: "Dirección privada rechazada"},
	{key: "kind:too_large", en: "Response too large", fr: "Réponse trop volumineuse", es: "Respuesta demasiado grande"},
	{key: "kind:redirects", en: "Redirect problem", fr: "Problème de redirection", es: "Problema de redirección"},
	{key: "kind:robots", en: "Disallowed by robots.txt", fr: "Interdit par robots.txt", es: "Prohibido por robots.txt"},
	{key: "kind:store", en: "Store error", fr: "Erreur du stockage", es: "Error del almacenamiento"},
	{key: "kind:not_feed", en: "Not a feed", fr: "Ce n’est pas un flux", es: "No es un canal"},
	{key: "kind:parse", en: "Could not be read", fr: "Illisible", es: "No se pudo leer"},
	{key: "kind:selectors", en: "Selectors no longer match", fr: "Les sélecteurs ne trouvent plus rien", es: "Los selectores ya no coinciden"},
	{key: "kind:connection", en: "Connection failed", fr: "Échec de la connexion", es: "Falló la conexión"},
	{key: "kind:tls", en: "Secure connection failed", fr: "Échec de la connexion sécurisée", es: "Falló la conexión segura"},
	{key: "kind:other", en: "Error", fr: "Erreur", es: "Error"},
}
