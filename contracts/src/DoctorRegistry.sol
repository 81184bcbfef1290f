// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IDoctorRegistry} from "./interfaces/IDoctorRegistry.sol";

/// @title DoctorRegistry
/// @notice Accreditation of doctors by a credential issuer, and their encryption keys.
contract DoctorRegistry is IDoctorRegistry, AccessControl {
    /// @inheritdoc IDoctorRegistry
    bytes32 public constant CREDENTIAL_ISSUER_ROLE = keccak256("CREDENTIAL_ISSUER_ROLE");

    mapping(address doctor => Credential) private _credentials;
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
        if (doctor == address(0)) revert ZeroDoctor();
        if (licenseHash == bytes32(0)) revert EmptyLicenseHash();
        if (expiresAt <= block.timestamp) revert ExpiryNotInFuture(expiresAt, block.timestamp);
        _credentials[doctor] = Credential({expiresAt: expiresAt, revoked: false, licenseHash: licenseHash});
        emit DoctorAccredited(doctor, licenseHash, expiresAt);
    }

    /// @inheritdoc IDoctorRegistry
    function revoke(address doctor) external onlyRole(CREDENTIAL_ISSUER_ROLE) {
        Credential storage credential = _credentials[doctor];
        if (credential.expiresAt == 0) revert NoCredential(doctor);
        if (credential.revoked) revert AlreadyRevoked(doctor);
        credential.revoked = true;
        emit DoctorRevoked(doctor);
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
        Credential storage credential = _credentials[doctor];
        return !credential.revoked && block.timestamp < credential.expiresAt;
    }

    /// @inheritdoc IDoctorRegistry
    function canServe(address doctor) external view returns (bool) {
        return isAccredited(doctor) && _encryptionKeys[doctor] != bytes32(0);
    }

    /// @inheritdoc IDoctorRegistry
    function credentialOf(address doctor) external view returns (Credential memory) {
        return _credentials[doctor];
    }

    /// @inheritdoc IDoctorRegistry
    function encryptionKeyOf(address doctor) external view returns (bytes32) {
        return _encryptionKeys[doctor];
    }
}
