/*
 * NTSTATUS: the error currency of all protocol code (MS-ERREF 2.3).
 *
 * A one-field struct rather than a bare integer, so that an errno, a bool
 * or a Win32 error can never be returned where an NTSTATUS is expected.
 */
#ifndef PORTHOS_NTSTATUS_H
#define PORTHOS_NTSTATUS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	uint32_t v;
} NTSTATUS;

#define NT_STATUS(x) ((NTSTATUS){ (uint32_t)(x) })
#define NT_STATUS_V(s) ((s).v)
#define NT_STATUS_IS_OK(s) ((s).v == 0)
#define NT_STATUS_EQUAL(a, b) ((a).v == (b).v)
/* Severity "error" (0xC...) as opposed to success, informational, warning. */
#define NT_STATUS_IS_ERR(s) (((s).v & 0xC0000000u) == 0xC0000000u)

/* X(name, value): the table is the single source for constants and names. */
#define NTSTATUS_TABLE(X) \
	X(OK,                              0x00000000) \
	X(PENDING,                         0x00000103) \
	X(NOTIFY_CLEANUP,                  0x0000010B) \
	X(NOTIFY_ENUM_DIR,                 0x0000010C) \
	X(BUFFER_OVERFLOW,                 0x80000005) \
	X(NO_MORE_FILES,                   0x80000006) \
	X(STOPPED_ON_SYMLINK,              0x8000002D) \
	X(UNSUCCESSFUL,                    0xC0000001) \
	X(NOT_IMPLEMENTED,                 0xC0000002) \
	X(INVALID_INFO_CLASS,              0xC0000003) \
	X(INFO_LENGTH_MISMATCH,            0xC0000004) \
	X(INVALID_HANDLE,                  0xC0000008) \
	X(INVALID_PARAMETER,               0xC000000D) \
	X(NO_SUCH_DEVICE,                  0xC000000E) \
	X(NO_SUCH_FILE,                    0xC000000F) \
	X(INVALID_DEVICE_REQUEST,          0xC0000010) \
	X(END_OF_FILE,                     0xC0000011) \
	X(MORE_PROCESSING_REQUIRED,        0xC0000016) \
	X(NO_MEMORY,                       0xC0000017) \
	X(ACCESS_DENIED,                   0xC0000022) \
	X(BUFFER_TOO_SMALL,                0xC0000023) \
	X(OBJECT_TYPE_MISMATCH,            0xC0000024) \
	X(OBJECT_NAME_INVALID,             0xC0000033) \
	X(OBJECT_NAME_NOT_FOUND,           0xC0000034) \
	X(OBJECT_NAME_COLLISION,           0xC0000035) \
	X(OBJECT_PATH_INVALID,             0xC0000039) \
	X(OBJECT_PATH_NOT_FOUND,           0xC000003A) \
	X(OBJECT_PATH_SYNTAX_BAD,          0xC000003B) \
	X(SHARING_VIOLATION,               0xC0000043) \
	X(EAS_NOT_SUPPORTED,               0xC000004F) \
	X(FILE_LOCK_CONFLICT,              0xC0000054) \
	X(LOCK_NOT_GRANTED,                0xC0000055) \
	X(DELETE_PENDING,                  0xC0000056) \
	X(PRIVILEGE_NOT_HELD,              0xC0000061) \
	X(WRONG_PASSWORD,                  0xC000006A) \
	X(LOGON_FAILURE,                   0xC000006D) \
	X(ACCOUNT_RESTRICTION,             0xC000006E) \
	X(PASSWORD_EXPIRED,                0xC0000071) \
	X(ACCOUNT_DISABLED,                0xC0000072) \
	X(NONE_MAPPED,                     0xC0000073) \
	X(INSUFFICIENT_RESOURCES,          0xC000009A) \
	X(DISK_FULL,                       0xC000007F) \
	X(FILE_INVALID,                    0xC0000098) \
	X(MEDIA_WRITE_PROTECTED,           0xC00000A2) \
	X(ILLEGAL_FUNCTION,                0xC00000AF) \
	X(PIPE_NOT_AVAILABLE,              0xC00000AC) \
	X(INVALID_PIPE_STATE,              0xC00000AD) \
	X(PIPE_BUSY,                       0xC00000AE) \
	X(PIPE_DISCONNECTED,               0xC00000B0) \
	X(PIPE_CLOSING,                    0xC00000B1) \
	X(PIPE_EMPTY,                      0xC00000D9) \
	X(FILE_IS_A_DIRECTORY,             0xC00000BA) \
	X(NOT_SUPPORTED,                   0xC00000BB) \
	X(NETWORK_NAME_DELETED,            0xC00000C9) \
	X(NETWORK_ACCESS_DENIED,           0xC00000CA) \
	X(BAD_DEVICE_TYPE,                 0xC00000CB) \
	X(BAD_NETWORK_NAME,                0xC00000CC) \
	X(REQUEST_NOT_ACCEPTED,            0xC00000D0) \
	X(NOT_SAME_DEVICE,                 0xC00000D4) \
	X(FILE_RENAMED,                    0xC00000D5) \
	X(IO_TIMEOUT,                      0xC00000B5) \
	X(FILE_FORCED_CLOSED,              0xC00000B6) \
	X(DIRECTORY_NOT_EMPTY,             0xC0000101) \
	X(NOT_A_DIRECTORY,                 0xC0000103) \
	X(NAME_TOO_LONG,                   0xC0000106) \
	X(FILES_OPEN,                      0xC0000107) \
	X(CANCELLED,                       0xC0000120) \
	X(CANNOT_DELETE,                   0xC0000121) \
	X(FILE_DELETED,                    0xC0000123) \
	X(FILE_CLOSED,                     0xC0000128) \
	X(INVALID_LEVEL,                   0xC0000148) \
	X(PIPE_BROKEN,                     0xC000014B) \
	X(INVALID_NETWORK_RESPONSE,        0xC00000C3) \
	X(INTERNAL_ERROR,                  0xC00000E5) \
	X(INVALID_OPLOCK_PROTOCOL,         0xC00000E3) \
	X(FS_DRIVER_REQUIRED,              0xC000019C) \
	X(USER_SESSION_DELETED,            0xC0000203) \
	X(INSUFF_SERVER_RESOURCES,         0xC0000205) \
	X(NOT_FOUND,                       0xC0000225) \
	X(DUPLICATE_OBJECTID,              0xC000022A) \
	X(OBJECTID_EXISTS,                 0xC000022B) \
	X(NETWORK_SESSION_EXPIRED,         0xC000035C) \
	X(SMB_TOO_MANY_UIDS,               0xC000205A) \
	X(FILE_NOT_AVAILABLE,              0xC0000467) \
	X(NOT_A_REPARSE_POINT,             0xC0000275) \
	X(IO_REPARSE_TAG_NOT_HANDLED,      0xC0000279) \
	X(DATA_ERROR,                      0xC000003E) \
	X(USER_SESSION_NOT_FOUND,          0xC0000299) \
	X(INVALID_LOCK_RANGE,              0xC00001A1) \
	X(RANGE_NOT_LOCKED,                0xC000007E) \
	X(BAD_IMPERSONATION_LEVEL,         0xC00000A5) \
	X(INVALID_DEVICE_STATE,            0xC0000184) \
	X(NO_SUCH_USER,                    0xC0000064) \
	X(NO_SUCH_LOGON_SESSION,           0xC000005F) \
	X(TOO_MANY_OPENED_FILES,           0xC000011F) \
	X(INVALID_SIGNATURE,               0xC000A000) \
	X(HMAC_NOT_SUPPORTED,              0xC000A001) \
	X(FILE_SYSTEM_LIMITATION,          0xC0000427) \
	X(NO_EAS_ON_FILE,                  0xC0000052) \
	X(EA_TOO_LARGE,                    0xC0000050) \
	X(NONEXISTENT_EA_ENTRY,            0xC0000051) \
	X(INVALID_EA_NAME,                 0x80000013) \
	X(DEVICE_NOT_READY,                0xC00000A3) \
	X(TOO_MANY_SESSIONS,               0xC00000CE) \
	X(REQUEST_ABORTED,                 0xC0000240) \
	X(RETRY,                           0xC000022D) \
	X(CONNECTION_DISCONNECTED,         0xC000020C) \
	X(CONNECTION_RESET,                0xC000020D) \
	X(NOT_LOCKED,                      0xC000002A) \
	X(OBJECTID_NOT_FOUND,              0xC00002F0) \
	X(NO_USER_SESSION_KEY,             0xC0000202) \
	X(VOLUME_DISMOUNTED,               0xC000026E) \
	X(REQUEST_OUT_OF_SEQUENCE,         0xC000042A) \
	X(BAD_NETWORK_PATH,                0xC00000BE) \
	X(INVALID_USER_BUFFER,             0xC00000E8) \
	X(SECTION_TOO_BIG,                 0xC0000040) \
	X(INVALID_VIEW_SIZE,               0xC000001F) \
	X(ALREADY_COMMITTED,               0xC0000021) \
	X(FILE_TOO_LARGE,                  0xC0000904) \
	X(ENCRYPTION_FAILED,               0xC000028A) \
	X(DECRYPTION_FAILED,               0xC000028B) \
	X(NO_SUCH_DOMAIN,                  0xC00000DF) \
	X(DIRECTORY_IS_A_REPARSE_POINT,    0xC0000281) \
	X(DFS_UNAVAILABLE,          0xC000026D) \
	X(SERVER_UNAVAILABLE,              0xC0000466) \
	X(LOGON_TYPE_NOT_GRANTED,          0xC000015B) \
	X(TIME_DIFFERENCE_AT_DC,           0xC0000133) \
	X(NO_TRUST_SAM_ACCOUNT,            0xC000018B) \
	X(RPC_PROTOCOL_ERROR,              0xC002004D) \
	X(DOWNGRADE_DETECTED,              0xC0000388) \
	X(TOO_MANY_LINKS,                  0xC0000265)

/* NT_STATUS_V_x: an integer constant, for switch labels. */
#define X(name, value) NT_STATUS_V_##name = value,
enum { NTSTATUS_TABLE(X) };
#undef X

/* NT_STATUS_x: the typed value. */
#define X(name, value) \
	static const NTSTATUS NT_STATUS_##name = { value };
NTSTATUS_TABLE(X)
#undef X

/* The symbolic name ("NT_STATUS_ACCESS_DENIED") or a hex string. */
const char *nt_errstr(NTSTATUS status);

/*
 * The one conversion from errno, used only by the storage layer
 * (smbd/vfs*.c): protocol code never sees errno.
 */
NTSTATUS ntstatus_from_errno(int err);

#endif
