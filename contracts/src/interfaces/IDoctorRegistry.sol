// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDoctorRegistry
/// @notice Who may post and who may read and vote on CrypDoc scans. A credential issuer
/// accredits doctors and hospitals for a limited time; one address holds one role at a time, so
/// no account can both post a task and review it. Each doctor publishes the X25519 public key that
/// hospitals wrap scan keys to.
interface IDoctorRegistry {
    /// @notice What a credential accredits its holder as.
    enum Role {
        None,
        Doctor,
        Hospital
    }

    /// @notice An accreditation, packed in two storage slots.
    /// @param expiresAt Unix time from which the accreditation no longer counts.
    /// @param revoked Whether the issuer withdrew the accreditation before it expired.
    /// @param role Doctor or hospital.
    /// @param licenseHash Digest of the off-chain licence document that the issuer checked.
    struct Credential {
        uint64 expiresAt;
        bool revoked;
        Role role;
        bytes32 licenseHash;
    }

    /// @notice The account address was zero.
    error ZeroAccount();
    /// @notice The licence digest was zero, so it proves nothing.
    error EmptyLicenseHash();
    /// @notice An accreditation must expire in the future.
    /// @param expiresAt The expiry that was asked for.
    /// @param nowTimestamp The current block time.
    error ExpiryNotInFuture(uint64 expiresAt, uint256 nowTimestamp);
    /// @notice The account holds no accreditation that could be revoked.
    /// @param account The account.
    error NoCredential(address account);
    /// @notice The credential was already revoked.
    /// @param account The account.
    error AlreadyRevoked(address account);
    /// @notice The account is accredited in the other role; a doctor cannot also be a hospital.
    /// @param account The account.
    /// @param held The role it is accredited as now.
    /// @param requested The role that was asked for.
    error RoleConflict(address account, Role held, Role requested);
    /// @notice Only currently accredited doctors may publish an encryption key.
    /// @param doctor The caller.
    error NotAccredited(address doctor);
    /// @notice An all-zero X25519 key is not a usable public key.
    error ZeroEncryptionKey();

    /// @notice Emitted after `doctor` was accredited (or re-accredited) until `expiresAt`.
    /// @param doctor The doctor.
    /// @param licenseHash Digest of the licence the issuer checked.
    /// @param expiresAt When the accreditation ends (unix seconds).
    event DoctorAccredited(address indexed doctor, bytes32 licenseHash, uint64 expiresAt);
    /// @notice Emitted after `hospital` was accredited (or re-accredited) until `expiresAt`.
    /// @param hospital The hospital.
    /// @param licenseHash Digest of the licence the issuer checked.
    /// @param expiresAt When the accreditation ends (unix seconds).
    event HospitalAccredited(address indexed hospital, bytes32 licenseHash, uint64 expiresAt);
    /// @notice Emitted after the accreditation of `doctor` was revoked.
    /// @param doctor The doctor.
    event DoctorRevoked(address indexed doctor);
    /// @notice Emitted after the accreditation of `hospital` was revoked.
    /// @param hospital The hospital.
    event HospitalRevoked(address indexed hospital);
    /// @notice Emitted after `doctor` published `encryptionKey`.
    /// @param doctor The doctor.
    /// @param encryptionKey Its X25519 public key.
    event EncryptionKeySet(address indexed doctor, bytes32 encryptionKey);

    /// @notice The role allowed to accredit and revoke doctors and hospitals.
    function CREDENTIAL_ISSUER_ROLE() external view returns (bytes32);

    /// @notice Accredits `doctor` until `expiresAt`; re-accrediting replaces the old credential
    /// and lifts a revocation.
    /// @dev Only the credential issuer role. Reverts with {RoleConflict} while `doctor` is an
    /// accredited hospital.
    function accredit(address doctor, bytes32 licenseHash, uint64 expiresAt) external;

    /// @notice Accredits `hospital` to post tasks until `expiresAt`; re-accrediting replaces the
    /// old credential and lifts a revocation.
    /// @dev Only the credential issuer role. Reverts with {RoleConflict} while `hospital` is an
    /// accredited doctor.
    function accreditHospital(address hospital, bytes32 licenseHash, uint64 expiresAt) external;

    /// @notice Revokes the accreditation of `account`, doctor or hospital, at once.
    /// @dev Only the credential issuer role. Seats already held and tasks already posted stay
    /// valid, so that a revocation cannot strand escrow; a revoked doctor earns no reputation.
    function revoke(address account) external;

    /// @notice Publishes the caller's X25519 public key for sealed scan keys.
    /// @dev Only an accredited doctor. The key derives from a wallet signature, so a doctor can
    /// re-derive it on any device.
    function setEncryptionKey(bytes32 encryptionKey) external;

    /// @notice Whether `doctor` is an accredited doctor now: credentialed, not revoked, not expired.
    function isAccredited(address doctor) external view returns (bool);

    /// @notice Whether `hospital` is an accredited hospital now, and so may post tasks.
    function isAccreditedHospital(address hospital) external view returns (bool);

    /// @notice Whether `doctor` may take a seat now: an accredited doctor with an encryption key.
    function canServe(address doctor) external view returns (bool);

    /// @notice The credential of `account` (all zero if none).
    function credentialOf(address account) external view returns (Credential memory);

    /// @notice The X25519 public key of `doctor`, zero if none was set.
    function encryptionKeyOf(address doctor) external view returns (bytes32);
}
