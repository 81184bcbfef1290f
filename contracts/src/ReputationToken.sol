// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IReputationToken} from "./interfaces/IReputationToken.sol";

/// @title ReputationToken
/// @notice Soulbound reputation points with an ERC20-shaped read interface for wallets. The
/// diagnosis market creates it and is its only minter, for good.
contract ReputationToken is IReputationToken {
    /// @inheritdoc IReputationToken
    address public immutable minter;

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

    /// @param minter_ The only account that will ever mint.
    constructor(address minter_) {
        if (minter_ == address(0)) revert ZeroAccount();
        minter = minter_;
    }

    /// @inheritdoc IReputationToken
    function mintBatch(address[] calldata accounts, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
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
