/*
 * AppInstanceId and AppInstanceVersion (MS-SMB2 2.2.13.2.13,
 * 2.2.13.2.15, 3.3.5.9.13): a clustered application, a Hyper-V virtual
 * machine above all, names its instance on its opens. When it starts
 * again on another host (another client), its new open of the same file
 * closes what its earlier instance left behind, a durable handle
 * waiting for a client that will not come back, instead of failing on it
 * until that handle's time-out. With versions (3.1.1), an older instance
 * cannot take over from a newer one.
 */
#ifndef PORTHOS_SMBD_APP_INSTANCE_H
#define PORTHOS_SMBD_APP_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_open;
struct wire_rd;

/* What a CREATE's contexts said. */
struct smbd_app_instance_request {
	bool has_id;
	uint8_t id[16];
	bool has_version;        /* 3.1.1 only */
	uint64_t version_high, version_low;
};

/*
 * One create context, if its name is the AppInstanceId or
 * AppInstanceVersion tag (16 bytes): true, and *status
 * INVALID_PARAMETER if it is malformed.
 */
bool smbd_app_instance_parse(const uint8_t *tag, uint16_t tag_len, struct wire_rd *data, uint16_t dialect,
			     struct smbd_app_instance_request *r, NTSTATUS *status);

/*
 * Before a new open of (dev, ino) is judged against the others: closes
 * the opens of the same instance on the same share from other clients.
 * FILE_FORCED_CLOSED (and nothing closed) if one of them is of a newer
 * version than r's.
 */
NTSTATUS smbd_app_instance_take_over(struct smb2_call *call, const struct smbd_app_instance_request *r, dev_t dev,
				     ino_t ino);

/* Marks a new open with r's instance (nothing if r has none). */
void smbd_app_instance_set(struct smbd_open *o, const struct smbd_app_instance_request *r,
			   const uint8_t client_guid[16]);

#endif
