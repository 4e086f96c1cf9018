package store

import "github.com/iss-network/networkfeed/internal/news"

// A source's poll history (up to news.MaxHistory records, most of a source's stored
// state) is kept apart from the rest of its state, with only its newest record beside
// it: reading every source's state (Store.SourceStates, for the scheduler, a poll's
// ordering and the gauges) then decodes a few hundred bytes per source instead of
// about 5 KB. States written before keep their whole history inline until written again.

// SplitHistory is st as a store keeps it beside the other sources' states (its history
// cut to the newest record) and its whole history, to keep apart; nil when the state
// holds all of it (a store then removes any history it kept apart for the source).
func SplitHistory(st news.SourceState) (news.SourceState, []news.PollRecord) {
	hist := st.History
	if len(hist) <= 1 {
		return st, nil
	}
	st.History = hist[:1:1]
	return st, hist
}

// JoinHistory puts the history kept apart (hist) back in st, read beside it: only when
// it goes with the state, its newest record the one the state holds. A state written
// otherwise (by an earlier version, whole history inline, or after the history apart
// was left behind) keeps its own.
func JoinHistory(st *news.SourceState, hist []news.PollRecord) {
	if len(st.History) == 1 && len(hist) > 1 && hist[0].At.Equal(st.History[0].At) {
		st.History = hist
	}
}

// Brief cuts a state read from a store to what SourceStates gives: the newest record of
// its history (a state written before histories were kept apart carries all of them).
func Brief(st *news.SourceState) {
	if len(st.History) > 1 {
		st.History = st.History[:1:1]
	}
}
