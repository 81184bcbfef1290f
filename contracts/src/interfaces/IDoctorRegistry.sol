// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDoctorRegistry
/// @notice Who may read and vote on CrypDoc scans. A credential issuer accredits doctors for a
/// limited time; each doctor publishes the X25519 public key that hospitals wrap scan keys to.
interface IDoctorRegistry {
    /// @notice A doctor's accreditation, packed in one storage slot.
    /// @param expiresAt Unix time from which the accreditation no longer counts.
    /// @param revoked Whether the issuer withdrew the accreditation before it expired.
    /// @param licenseHash Digest of the off-chain licence document that the issuer checked.
    struct Credential {
        uint64 expiresAt;
        bool revoked;
        bytes32 licenseHash;
    }

    /// @notice The doctor address was zero.
    error ZeroDoctor();
    /// @notice The licence digest was zero, so it proves nothing.
    error EmptyLicenseHash();
    /// @notice An accreditation must expire in the future.
    /// @param expiresAt The expiry that was asked for.
    /// @param nowTimestamp The current block time.
    error ExpiryNotInFuture(uint64 expiresAt, uint256 nowTimestamp);
    /// @notice The doctor holds no accreditation that could be revoked.
    /// @param doctor The doctor.
    error NoCredential(address doctor);
    /// @notice The credential was already revoked.
    /// @param doctor The doctor.
    error AlreadyRevoked(address doctor);
    /// @notice Only currently accredited doctors may publish an encryption key.
    /// @param doctor The caller.
    error NotAccredited(address doctor);
    /// @notice An all-zero X25519 key is not a usable public key.
    error ZeroEncryptionKey();

    /// @notice Emitted after `doctor` was accredited (or re-accredited) until `expiresAt`.
    event DoctorAccredited(address indexed doctor, bytes32 licenseHash, uint64 expiresAt);
    /// @notice Emitted after the accreditation of `doctor` was revoked.
    event DoctorRevoked(address indexed doctor);
    /// @notice Emitted after `doctor` published `encryptionKey`.
    event EncryptionKeySet(address indexed doctor, bytes32 encryptionKey);

    /// @notice The role allowed to accredit and revoke doctors.
    function CREDENTIAL_ISSUER_ROLE() external view returns (bytes32);

    /// @notice Accredits `doctor` until `expiresAt`; re-accrediting replaces the old credential
    /// and lifts a revocation.
    /// @dev Only the credential issuer role.
    function accredit(address doctor, bytes32 licenseHash, uint64 expiresAt) external;

    /// @notice Revokes the accreditation of `doctor` at once.
    /// @dev Only the credential issuer role. Seats already held stay valid so that a revocation
    /// cannot be used to strand a task; only new seats are refused.
    function revoke(address doctor) external;

    /// @notice Publishes the caller's X25519 public key for sealed scan keys.
    /// @dev Only an accredited doctor. The key derives from a wallet signature, so a doctor can
    /// re-derive it on any device.
    function setEncryptionKey(bytes32 encryptionKey) external;

    /// @notice Whether `doctor` is accredited now: credentialed, not revoked, not expired.
    function isAccredited(address doctor) external view returns (bool);

    /// @notice Whether `doctor` may take a seat now: accredited and with an encryption key.
    function canServe(address doctor) external view returns (bool);

    /// @notice The credential of `doctor` (all zero if none).
    function credentialOf(address doctor) external view returns (Credential memory);

    /// @notice The X25519 public key of `doctor`, zero if none was set.
    function encryptionKeyOf(address doctor) external view returns (bytes32);
}
