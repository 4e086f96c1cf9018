package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/iss-network/networkfeed/internal/news"
)

// encodeItem is how an item is stored under its key.
func encodeItem(it *news.Item) (string, error) {
	b, err := json.Marshal(it)
	if err != nil {
		return "", fmt.Errorf("encode item %s: %w", it.ID, err)
	}
	return string(b), nil
}

// decodeItem reads what encodeItem wrote.
func decodeItem(v string) (news.Item, error) {
	var it news.Item
	if v == "" {
		return it, errors.New("decode item: empty value")
	}
	if err := json.Unmarshal([]byte(v), &it); err != nil {
		return it, fmt.Errorf("decode item: %w", err)
	}
	return it, nil
}
