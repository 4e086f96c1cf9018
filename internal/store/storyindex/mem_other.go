//go:build !unix

package storyindex

import "errors"

func mapMemory(int) ([]byte, error) { return nil, errors.New("no anonymous mappings here") }

func unmapMemory([]byte) {}
