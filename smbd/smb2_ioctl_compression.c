/*
 * Compression: FSCTL_GET_COMPRESSION and FSCTL_SET_COMPRESSION (MS-FSCC
 * 2.3.18, 2.3.67; MS-FSA 2.1.5.10.9, 2.1.5.10.30).
 *
 * No file here is compressed, and the shares do not claim
 * FILE_FILE_COMPRESSION. MS-FSA lets a store without compression fail
 * both with INVALID_DEVICE_REQUEST; Windows Server 2016 on ReFS answers
 * instead, and so does this: the state is always NONE, setting NONE
 * succeeds, asking for compression is NOT_SUPPORTED (smbtorture
 * smb2.ioctl.compress_notsup_get/_set). Clients ask before they rely on a
 * file (Hyper-V refuses a compressed virtual disk).
 */
#include "config.h"

#include "lib/wire.h"
#include "smbd/ioctl.h"
#include "smbd/open.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"

#define COMPRESSION_FORMAT_NONE 0
#define COMPRESSION_FORMAT_LZNT1 2

NTSTATUS fsctl_decode_set_compression(const uint8_t *input, size_t len, uint16_t *state)
{
	/* MS-FSA 2.1.5.10.30: at least a USHORT, one of the defined values. */
	if (len < 2)
		return NT_STATUS_INVALID_PARAMETER;
	struct wire_rd r;
	wire_rd_init(&r, input, len);
	*state = wire_u16(&r);
	if (*state > COMPRESSION_FORMAT_LZNT1)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

NTSTATUS smb2_ioctl_get_compression(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (in->max_output < 2)
		return NT_STATUS_INVALID_PARAMETER;
	uint8_t out[2];
	put_le16(out, COMPRESSION_FORMAT_NONE);
	return smb2_ioctl_reply(call, in, out, sizeof(out), NT_STATUS_OK);
}

NTSTATUS smb2_ioctl_set_compression(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* The control code asks for FILE_READ_DATA | FILE_WRITE_DATA
	 * (MS-FSCC 2.3: its access bits), checked before the input. */
	if ((o->access & (FILE_READ_DATA | FILE_WRITE_DATA)) != (FILE_READ_DATA | FILE_WRITE_DATA))
		return NT_STATUS_ACCESS_DENIED;
	uint16_t state;
	status = fsctl_decode_set_compression(in->input, in->input_count, &state);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (state != COMPRESSION_FORMAT_NONE)
		return NT_STATUS_NOT_SUPPORTED;
	if (o->tcon->read_only)
		return NT_STATUS_MEDIA_WRITE_PROTECTED;
	/* Already uncompressed: nothing to change (MS-FSA 2.1.5.10.30). */
	return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);
}
