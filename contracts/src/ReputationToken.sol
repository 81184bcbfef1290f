// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IReputationToken} from "./interfaces/IReputationToken.sol";

/// @title ReputationToken
/// @notice Soulbound reputation points with an ERC20-shaped read interface for wallets.
contract ReputationToken is IReputationToken, AccessControl {
    /// @inheritdoc IReputationToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @inheritdoc IReputationToken
    string public constant name = "CrypDoc Reputation";
    /// @inheritdoc IReputationToken
    string public constant symbol = "CDREP";
    /// @inheritdoc IReputationToken
    uint8 public constant decimals = 0;

    /// @inheritdoc IReputationToken
    uint256 public totalSupply;
    /// @inheritdoc IReputationToken
    mapping(address account => uint256) public balanceOf;

    /// @param admin Holder of the admin role, which grants the minter role to the market.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IReputationToken
    function mintBatch(address[] calldata accounts, uint256 amount) external onlyRole(MINTER_ROLE) {
        uint256 count = accounts.length;
        for (uint256 i; i < count; ++i) {
            address account = accounts[i];
            if (account == address(0)) revert ZeroAccount();
            balanceOf[account] += amount;
            emit Transfer(address(0), account, amount);
        }
        totalSupply += amount * count;
    }

    /// @inheritdoc IReputationToken
    function mint(address account, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (account == address(0)) revert ZeroAccount();
        totalSupply += amount;
        balanceOf[account] += amount;
        emit Transfer(address(0), account, amount);
    }

    /// @inheritdoc IReputationToken
    function burn(address account, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (account == address(0)) revert ZeroAccount();
        uint256 balance = balanceOf[account];
        if (balance < amount) revert BurnExceedsBalance(account, balance, amount);
        unchecked {
            balanceOf[account] = balance - amount;
            totalSupply -= amount;
        }
        emit Transfer(account, address(0), amount);
    }

    /// @inheritdoc IReputationToken
    function transfer(address, uint256) external pure returns (bool) {
        revert ReputationNonTransferable();
    }

    /// @inheritdoc IReputationToken
    function transferFrom(address, address, uint256) external pure returns (bool) {
        revert ReputationNonTransferable();
    }

    /// @inheritdoc IReputationToken
    function approve(address, uint256) external pure returns (bool) {
        revert ReputationNonTransferable();
    }

    /// @inheritdoc IReputationToken
    function allowance(address, address) external pure returns (uint256) {
        return 0;
    }
}
