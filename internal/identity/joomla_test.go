package identity

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestJoomlaArticleLinks: a member's Joomla site without SEF URLs links an article as
// index.php?option=com_content&view=article&id=245:alias&catid=12&Itemid=101; the menu
// entry (Itemid), the category and the alias change while the article stays number 245.
func TestJoomlaArticleLinks(t *testing.T) {
	const article = "https://iss.example.org/index.php?id=245&option=com_content&view=article"
	tests := []struct{ name, in, want string }{
		{"menu, category and alias dropped", "http://www.iss.example.org/index.php?option=com_content&view=article&id=245:kafala-mission&catid=12&Itemid=101", article},
		{"another menu entry", "https://iss.example.org/index.php?option=com_content&view=article&id=245:kafala-mission&catid=12&Itemid=235", article},
		{"another category and alias", "https://iss.example.org/index.php?option=com_content&view=article&id=245:kafala-ch&catid=31&Itemid=101", article},
		{"escaped colon", "https://iss.example.org/index.php?Itemid=101&catid=12&id=245%3Akafala-mission&option=com_content&view=article", article},
		{"dash alias", "https://iss.example.org/index.php?option=com_content&view=article&id=245-kafala-mission&Itemid=9", article},
		{"number alone", "https://iss.example.org/index.php?option=com_content&view=article&id=245", article},
		{"leading zero", "https://iss.example.org/index.php?option=com_content&view=article&id=0245", article},
		{"template dropped", "https://iss.example.org/index.php?option=com_content&view=article&id=245&tmpl=component&Itemid=3", article},
		{"tracking dropped too", "https://iss.example.org/index.php?option=com_content&view=article&id=245&Itemid=3&utm_source=rss", article},
		{"site root", "https://iss.example.org/?option=com_content&view=article&id=245:a&Itemid=3", "https://iss.example.org/?id=245&option=com_content&view=article"},
		{"site in a directory", "https://iss.example.org/fr/index.php?option=com_content&view=article&id=245:a&catid=2&Itemid=3", "https://iss.example.org/fr/index.php?id=245&option=com_content&view=article"},
		{"directory without index.php", "https://iss.example.org/fr/?option=com_content&view=article&id=245:a&Itemid=3", "https://iss.example.org/fr?Itemid=3&id=245%3Aa&option=com_content&view=article"},
		{"language kept", "https://iss.example.org/index.php?option=com_content&view=article&id=245:a&Itemid=3&lang=fr", "https://iss.example.org/index.php?id=245&lang=fr&option=com_content&view=article"},
		{"page of the article kept", "https://iss.example.org/index.php?option=com_content&view=article&id=245:a&Itemid=3&limitstart=1", "https://iss.example.org/index.php?id=245&limitstart=1&option=com_content&view=article"},
		{"case of option and view", "https://iss.example.org/index.php?option=COM_CONTENT&view=Article&id=245:a&Itemid=3", "https://iss.example.org/index.php?id=245&option=COM_CONTENT&view=Article"},

		// Not a Joomla article link: left as before.
		{"menu entry alone names the page", "https://iss.example.org/index.php?Itemid=101", "https://iss.example.org/index.php?Itemid=101"},
		{"no option", "https://iss.example.org/index.php?view=article&id=245:a&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245%3Aa&view=article"},
		{"another component", "https://iss.example.org/index.php?option=com_zoo&view=item&id=245:a&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245%3Aa&option=com_zoo&view=item"},
		{"K2's view of an item is not an article", "https://iss.example.org/index.php?option=com_content&view=item&id=245:a&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245%3Aa&option=com_content&view=item"},
		{"a category list", "https://iss.example.org/index.php?option=com_content&view=category&id=12&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=12&option=com_content&view=category"},
		{"no view", "https://iss.example.org/index.php?option=com_content&id=245&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&option=com_content"},
		{"no id: the menu entry's article", "https://iss.example.org/index.php?option=com_content&view=article&Itemid=101", "https://iss.example.org/index.php?Itemid=101&option=com_content&view=article"},
		{"id without a number", "https://iss.example.org/index.php?option=com_content&view=article&id=kafala&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=kafala&option=com_content&view=article"},
		{"two ids", "https://iss.example.org/index.php?option=com_content&view=article&id=245&id=246&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&id=246&option=com_content&view=article"},
		{"another script", "https://iss.example.org/news.php?option=com_content&view=article&id=245&Itemid=101&catid=2", "https://iss.example.org/news.php?Itemid=101&catid=2&id=245&option=com_content&view=article"},
		{"id and Itemid elsewhere", "https://iss.example.org/news/show.php?id=245&Itemid=101&catid=2", "https://iss.example.org/news/show.php?Itemid=101&catid=2&id=245"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCanonical(t, tt.in, tt.want) })
	}
}

// TestK2ItemLinks: a Joomla site's K2 component links an item as index.php?option=
// com_k2&view=item&id=245:alias&Itemid=101 (a catid at times); K2 reads the number
// alone, so the menu entry, category and alias change while the item stays 245.
func TestK2ItemLinks(t *testing.T) {
	const item = "https://iss.example.org/index.php?id=245&option=com_k2&view=item"
	tests := []struct{ name, in, want string }{
		{"menu and alias dropped", "http://www.iss.example.org/index.php?option=com_k2&view=item&id=245:kafala-mission&Itemid=101", item},
		{"another menu entry", "https://iss.example.org/index.php?option=com_k2&view=item&id=245:kafala-mission&Itemid=235", item},
		{"category dropped", "https://iss.example.org/index.php?option=com_k2&view=item&id=245:kafala-ch&catid=31&Itemid=101", item},
		{"escaped colon", "https://iss.example.org/index.php?Itemid=101&id=245%3Akafala-mission&option=com_k2&view=item", item},
		{"dash alias", "https://iss.example.org/index.php?option=com_k2&view=item&id=245-kafala-mission&Itemid=9", item},
		{"number alone", "https://iss.example.org/index.php?option=com_k2&view=item&id=245", item},
		{"leading zero", "https://iss.example.org/index.php?option=com_k2&view=item&id=0245", item},
		{"template dropped", "https://iss.example.org/index.php?option=com_k2&view=item&id=245&tmpl=component&Itemid=3", item},
		{"tracking dropped too", "https://iss.example.org/index.php?option=com_k2&view=item&id=245&Itemid=3&utm_source=rss", item},
		{"site root", "https://iss.example.org/?option=com_k2&view=item&id=245:a&Itemid=3", "https://iss.example.org/?id=245&option=com_k2&view=item"},
		{"site in a directory", "https://iss.example.org/fr/index.php?option=com_k2&view=item&id=245:a&Itemid=3", "https://iss.example.org/fr/index.php?id=245&option=com_k2&view=item"},
		{"language kept", "https://iss.example.org/index.php?option=com_k2&view=item&id=245:a&Itemid=3&lang=fr", "https://iss.example.org/index.php?id=245&lang=fr&option=com_k2&view=item"},
		{"layout kept", "https://iss.example.org/index.php?option=com_k2&view=item&layout=item&id=245:a&Itemid=3", "https://iss.example.org/index.php?id=245&layout=item&option=com_k2&view=item"},
		{"case of option and view", "https://iss.example.org/index.php?option=COM_K2&view=Item&id=245:a&Itemid=3", "https://iss.example.org/index.php?id=245&option=COM_K2&view=Item"},

		// Not a K2 item link: left as before.
		{"a list of items", "https://iss.example.org/index.php?option=com_k2&view=itemlist&layout=category&task=category&id=3:news&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=3%3Anews&layout=category&option=com_k2&task=category&view=itemlist"},
		{"a tag's list", "https://iss.example.org/index.php?option=com_k2&view=itemlist&task=tag&tag=kafala&Itemid=101", "https://iss.example.org/index.php?Itemid=101&option=com_k2&tag=kafala&task=tag&view=itemlist"},
		{"an attachment", "https://iss.example.org/index.php?option=com_k2&view=item&task=download&id=12_4f1c9a&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=12_4f1c9a&option=com_k2&task=download&view=item"},
		{"no view", "https://iss.example.org/index.php?option=com_k2&id=245&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&option=com_k2"},
		{"content's view with K2's option", "https://iss.example.org/index.php?option=com_k2&view=article&id=245&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&option=com_k2&view=article"},
		{"no id: the menu entry's item", "https://iss.example.org/index.php?option=com_k2&view=item&Itemid=101", "https://iss.example.org/index.php?Itemid=101&option=com_k2&view=item"},
		{"id without a number", "https://iss.example.org/index.php?option=com_k2&view=item&id=kafala&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=kafala&option=com_k2&view=item"},
		{"two ids", "https://iss.example.org/index.php?option=com_k2&view=item&id=245&id=246&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&id=246&option=com_k2&view=item"},
		{"two options", "https://iss.example.org/index.php?option=com_k2&option=com_k2&view=item&id=245&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&option=com_k2&option=com_k2&view=item"},
		{"another script", "https://iss.example.org/news.php?option=com_k2&view=item&id=245&Itemid=101", "https://iss.example.org/news.php?Itemid=101&id=245&option=com_k2&view=item"},
		{"directory without index.php", "https://iss.example.org/fr/?option=com_k2&view=item&id=245:a&Itemid=3", "https://iss.example.org/fr?Itemid=3&id=245%3Aa&option=com_k2&view=item"},
		{"a component whose name starts so", "https://iss.example.org/index.php?option=com_k2x&view=item&id=245&Itemid=101", "https://iss.example.org/index.php?Itemid=101&id=245&option=com_k2x&view=item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCanonical(t, tt.in, tt.want) })
	}
}

// TestK2EarlierForms: items stored before K2 item links were known by their number
// are keyed and indexed by the link with its menu entry (what Canonical gave then);
// EarlierCanonical finds that form from the link, CurrentKey and Recanonical turn it
// into this version's.
func TestK2EarlierForms(t *testing.T) {
	const (
		link    = "http://www.iss.example.org/index.php?option=com_k2&view=item&id=245:kafala-mission&Itemid=101"
		earlier = "https://iss.example.org/index.php?Itemid=101&id=245%3Akafala-mission&option=com_k2&view=item"
		now     = "https://iss.example.org/index.php?id=245&option=com_k2&view=item"
	)
	if got := EarlierCanonical(link); got != earlier {
		t.Errorf("EarlierCanonical = %q, want %q", got, earlier)
	}
	for _, same := range []string{
		now,
		"https://iss.example.org/index.php?option=com_k2&view=itemlist&layout=category&id=3&Itemid=101",
		"https://iss.example.org/index.php?option=com_k2&view=item&task=download&id=12_4f1c9a&Itemid=101",
	} {
		if got := EarlierCanonical(same); got != "" {
			t.Errorf("EarlierCanonical(%q) = %q, want none: its form did not change", same, got)
		}
	}
	if got := Recanonical(earlier); got != now {
		t.Errorf("Recanonical(%q) = %q, want %q", earlier, got, now)
	}
	for _, l := range []string{
		"https://iss.example.org/?option=com_k2&view=item&id=245:a&Itemid=3",
		"https://iss.example.org/fr/index.php?option=COM_K2&view=item&id=245:a&catid=2&Itemid=3&lang=fr",
		"https://iss.example.org/index.php?option=com_k2&view=item&id=245&tmpl=component",
	} {
		if e := EarlierCanonical(l); e == "" || Recanonical(e) != Canonical(l) {
			t.Errorf("%s: earlier form %q, again %q; want %q", l, e, Recanonical(e), Canonical(l))
		}
	}
	h := titleHash("Kafala mission")
	for _, k := range []struct{ stored, want string }{
		{"url:" + earlier, "url:" + now},
		{"url:" + earlier + " title:" + h, "url:" + now + " title:" + h},
		{"guid:urn:iss:1 " + earlier, "guid:urn:iss:1 " + now},
		{"guid:" + link, "guid:" + link},
		{"guid:a com_k2 b", "guid:a com_k2 b"},
	} {
		if got := CurrentKey(k.stored); got != k.want {
			t.Errorf("CurrentKey(%q) = %q, want %q", k.stored, got, k.want)
		}
	}
	got := Assign([]news.Item{{Title: "Kafala mission", Link: link}}, "ch")
	if got[0].Key != "url:"+now || got[0].Canonical != now {
		t.Errorf("Assign: key %q, canonical %q; want url:%s", got[0].Key, got[0].Canonical, now)
	}
}

func TestMentionsJoomla(t *testing.T) {
	for s, want := range map[string]bool{
		"option=com_content": true, "option=COM_CONTENT&x": true, "com_content": true,
		"option=com_k2": true, "option=Com_K2&view=item": true, "com_k2": true, "url:https://h/?option=com_k2": true,
		"com_k": false, "om_k2": false, "com_conten": false, "option=com_zoo": false, "": false, "___": false,
	} {
		if got := mentionsJoomla(s); got != want {
			t.Errorf("mentionsJoomla(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestJoomlaEarlierForms: items stored before this version are keyed and indexed by the
// link as Canonical gave it then (the strings below are what it gave); EarlierCanonical
// finds that form again from the link, and CurrentKey and Recanonical turn the stored
// forms into this version's.
func TestJoomlaEarlierForms(t *testing.T) {
	const (
		link    = "http://www.iss.example.org/index.php?option=com_content&view=article&id=245:kafala-mission&catid=12&Itemid=101"
		earlier = "https://iss.example.org/index.php?Itemid=101&catid=12&id=245%3Akafala-mission&option=com_content&view=article"
		now     = "https://iss.example.org/index.php?id=245&option=com_content&view=article"
	)
	if got := EarlierCanonical(link); got != earlier {
		t.Errorf("EarlierCanonical = %q, want %q", got, earlier)
	}
	for _, same := range []string{"https://iss.example.org/news/kafala", "https://iss.example.org/index.php?Itemid=101", now, "javascript:x", ""} {
		if got := EarlierCanonical(same); got != "" {
			t.Errorf("EarlierCanonical(%q) = %q, want none: its form did not change", same, got)
		}
	}
	if got := Recanonical(earlier); got != now {
		t.Errorf("Recanonical(%q) = %q, want %q", earlier, got, now)
	}
	// Every form this version reduces is found again from what the earlier one stored.
	for _, l := range []string{
		"https://iss.example.org/?option=com_content&view=article&id=245:a&Itemid=3",
		"https://iss.example.org/fr/index.php?option=com_content&view=article&id=245:a&catid=2&Itemid=3&lang=fr",
		"https://iss.example.org/index.php?option=com_content&view=article&id=245&tmpl=component",
	} {
		if e := EarlierCanonical(l); e == "" || Recanonical(e) != Canonical(l) {
			t.Errorf("%s: earlier form %q, again %q; want %q", l, e, Recanonical(e), Canonical(l))
		}
	}
	const other = "https://iss.example.org/news.php?Itemid=101&id=245"
	if got := Recanonical(other); got != other {
		t.Errorf("Recanonical(%q) = %q, want it unchanged", other, got)
	}
	it := news.Item{Title: "Kafala mission", Link: link}
	h := titleHash(it.Title)
	keys := []struct{ stored, want string }{
		{"url:" + earlier, "url:" + now},
		{"url:" + earlier + " title:" + h, "url:" + now + " title:" + h},
		{"guid:urn:iss:1 " + earlier, "guid:urn:iss:1 " + now},
		{"guid:" + link, "guid:" + link}, // a stable GUID is the source's: never changed
		{"guid:a com_content b", "guid:a com_content b"},
		{"hash:0123", "hash:0123"},
		{"url:" + other, "url:" + other},
	}
	for _, k := range keys {
		if got := CurrentKey(k.stored); got != k.want {
			t.Errorf("CurrentKey(%q) = %q, want %q", k.stored, got, k.want)
		}
		if k.stored != k.want {
			if back := KeyWithLink(k.want, now, earlier); back != k.stored {
				t.Errorf("KeyWithLink(%q) = %q, want %q", k.want, back, k.stored)
			}
		}
	}
	// Assign keys the item by this version's form.
	got := Assign([]news.Item{it}, "ch")
	if got[0].Key != "url:"+now || got[0].Canonical != now {
		t.Errorf("Assign: key %q, canonical %q; want url:%s", got[0].Key, got[0].Canonical, now)
	}
}

func TestJoomlaLinkProperties(t *testing.T) {
	t.Run("menu, category and alias never matter", rapid.MakeCheck(func(t *rapid.T) {
		host := rapid.SampledFrom([]string{"http://iss.example.org", "https://www.iss.example.org", "https://ssi.example.ch/site", "HTTP://ISS.example.org:80"}).Draw(t, "host")
		id := rapid.IntRange(1, 99999).Draw(t, "id")
		component := rapid.SampledFrom([][2]string{{"com_content", "article"}, {"com_k2", "item"}}).Draw(t, "component")
		params := []string{"option=" + component[0], "view=" + component[1], fmt.Sprintf("id=%d", id)}
		if alias := rapid.StringMatching(`[a-z0-9-]{0,12}`).Draw(t, "alias"); alias != "" {
			params[2] += rapid.SampledFrom([]string{":", "%3A", "-"}).Draw(t, "sep") + alias
		}
		for _, k := range rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"Itemid", "catid", "tmpl", "utm_source"}), 0, 4, rapid.ID).Draw(t, "extra") {
			params = append(params, k+"="+rapid.StringMatching(`[a-z0-9]{1,4}`).Draw(t, k))
		}
		params = rapid.Permutation(params).Draw(t, "order")
		in := host + "/index.php?" + params[0]
		for _, p := range params[1:] {
			in += "&" + p
		}
		want := Canonical(fmt.Sprintf("%s/index.php?option=%s&view=%s&id=%d", host, component[0], component[1], id))
		if got := Canonical(in); got != want {
			t.Fatalf("Canonical(%q) = %q, want %q", in, got, want)
		}
		// What an earlier version stored for it leads to it.
		if e := EarlierCanonical(in); e != "" && (Recanonical(e) != want || CurrentKey("url:"+e) != "url:"+want) {
			t.Fatalf("earlier form %q of %q: this version's %q, %q; want %q", e, in, Recanonical(e), CurrentKey("url:"+e), want)
		}
	}))
}
