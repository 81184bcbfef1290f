// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IDoctorRegistry} from "./interfaces/IDoctorRegistry.sol";

/// @title DoctorRegistry
/// @notice Accreditation of doctors and hospitals by a credential issuer, and doctors'
/// encryption keys.
contract DoctorRegistry is IDoctorRegistry, AccessControl {
    /// @inheritdoc IDoctorRegistry
    bytes32 public constant CREDENTIAL_ISSUER_ROLE = keccak256("CREDENTIAL_ISSUER_ROLE");

    mapping(address account => Credential) private _credentials;
    mapping(address doctor => bytes32) private _encryptionKeys;

    /// @param admin Holder of the admin role, which grants and revokes issuers.
    /// @param issuer First holder of the credential issuer role.
    constructor(address admin, address issuer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CREDENTIAL_ISSUER_ROLE, issuer);
    }

    /// @inheritdoc IDoctorRegistry
    function accredit(address doctor, bytes32 licenseHash, uint64 expiresAt)
        external
        onlyRole(CREDENTIAL_ISSUER_ROLE)
    {
        _accredit(doctor, Role.Doctor, licenseHash, expiresAt);
        emit DoctorAccredited(doctor, licenseHash, expiresAt);
    }

    /// @inheritdoc IDoctorRegistry
    function accreditHospital(address hospital, bytes32 licenseHash, uint64 expiresAt)
        external
        onlyRole(CREDENTIAL_ISSUER_ROLE)
    {
        _accredit(hospital, Role.Hospital, licenseHash, expiresAt);
        emit HospitalAccredited(hospital, licenseHash, expiresAt);
    }

    /// @inheritdoc IDoctorRegistry
    function revoke(address account) external onlyRole(CREDENTIAL_ISSUER_ROLE) {
        Credential storage credential = _credentials[account];
        if (credential.expiresAt == 0) revert NoCredential(account);
        if (credential.revoked) revert AlreadyRevoked(account);
        credential.revoked = true;
        if (credential.role == Role.Hospital) emit HospitalRevoked(account);
        else emit DoctorRevoked(account);
    }

    /// @inheritdoc IDoctorRegistry
    function setEncryptionKey(bytes32 encryptionKey) external {
        if (!isAccredited(msg.sender)) revert NotAccredited(msg.sender);
        if (encryptionKey == bytes32(0)) revert ZeroEncryptionKey();
        _encryptionKeys[msg.sender] = encryptionKey;
        emit EncryptionKeySet(msg.sender, encryptionKey);
    }

    /// @inheritdoc IDoctorRegistry
    function isAccredited(address doctor) public view returns (bool) {
        return _holds(_credentials[doctor], Role.Doctor);
    }

    /// @inheritdoc IDoctorRegistry
    function isAccreditedHospital(address hospital) external view returns (bool) {
        return _holds(_credentials[hospital], Role.Hospital);
    }

    /// @inheritdoc IDoctorRegistry
    function canServe(address doctor) external view returns (bool) {
        return isAccredited(doctor) && _encryptionKeys[doctor] != bytes32(0);
    }

    /// @inheritdoc IDoctorRegistry
    function credentialOf(address account) external view returns (Credential memory) {
        return _credentials[account];
    }

    /// @inheritdoc IDoctorRegistry
    function encryptionKeyOf(address doctor) external view returns (bytes32) {
        return _encryptionKeys[doctor];
    }

    function _accredit(address account, Role role, bytes32 licenseHash, uint64 expiresAt) private {
        if (account == address(0)) revert ZeroAccount();
        if (licenseHash == bytes32(0)) revert EmptyLicenseHash();
        if (expiresAt <= block.timestamp) revert ExpiryNotInFuture(expiresAt, block.timestamp);
        Credential storage current = _credentials[account];
        Role held = current.role;
        // A lapsed credential of the other role may be replaced; a live one may not, or one
        // account could post tasks and review them.
        if (held != role && held != Role.None && _holds(current, held)) {
            revert RoleConflict(account, held, role);
        }
        _credentials[account] =
            Credential({expiresAt: expiresAt, revoked: false, role: role, licenseHash: licenseHash});
    }

    function _holds(Credential storage credential, Role role) private view returns (bool) {
        return credential.role == role && !credential.revoked && block.timestamp < credential.expiresAt;
    }
}
