package sqldb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The audit log of personal data requests: one row per export and per
// erasure, written in the request's own transaction (an erasure) or before
// the export streams.

const auditCols = "id, at, actor, action, subject_type, subject_id, detail"

func scanAudit(r scanner) (leadcycle.AuditEntry, error) {
	var a leadcycle.AuditEntry
	err := r.Scan(idCol{&a.ID}, timeCol{&a.At}, &a.Actor, &a.Action, &a.SubjectType, idCol{&a.SubjectID}, jsonCol{&a.Detail})
	return a, err
}

// audit appends an entry about a contact, by the context's actor, and
// returns its id.
func (x personalStore) audit(ctx context.Context, q querier, action string, contactID leadcycle.ID, detail map[string]any) (leadcycle.ID, error) {
	var id int64
	err := x.s.QueryRowQ(ctx, q, "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		micros(x.s.Clock.Now()), leadcycle.ActorOf(ctx), action, leadcycle.AuditSubjectContact, int64(contactID), jsonText(detail)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("write audit log: %w", err)
	}
	return leadcycle.ID(id), nil
}

// auditFilterColumns are the columns the audit log can be filtered on.
var auditFilterColumns = []string{"action", "subject_id"}

// AuditLog implements leadcycle.PersonalDataStore.
func (x personalStore) AuditLog(ctx context.Context, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.AuditEntry], error) {
	query := "SELECT " + auditCols + " FROM audit_log WHERE id > 0"
	var args []any
	for _, f := range q.Filters {
		if len(f.Columns) != 1 || f.Op != leadcycle.OpEq || !slices.Contains(auditFilterColumns, f.Columns[0]) {
			return leadcycle.Page[leadcycle.AuditEntry]{Items: []leadcycle.AuditEntry{}},
				leadcycle.FieldErrorf(leadcycle.EInvalid, strings.Join(f.Columns, ","), "cannot be filtered on; the audit log filters on action and subject_id")
		}
		query += " AND " + f.Columns[0] + " = ?"
		args = append(args, sqlValue(f.Value))
	}
	return newestFirst(ctx, x.s.DB, q, query, args, scanAudit, func(a leadcycle.AuditEntry) leadcycle.ID { return a.ID })
}
